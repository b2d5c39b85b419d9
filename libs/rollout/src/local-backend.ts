// LocalRollout: generate() on our own model and kernels, in this process, through the continuous-batching
// engine. The model object is shared, not copied: a trainer that updates its parameters in place samples
// from the new policy on the next generate() with nothing re-created, and reloadWeights(dir) streams a
// checkpoint's tensors into the live parameters (same shapes) for a policy trained elsewhere.
import { Progress, UserError } from '@lwz/core';
import {
  checkCausalLm,
  checkVocabCovers,
  endOfSequenceIds,
  isIgnorableTensor,
  loadModel,
  openWeights,
  readModelConfig,
  type ModelConfig,
  type Qwen2Model,
} from '@lwz/model';
import { Tokenizer } from '@lwz/tokenizer';
import { join } from 'node:path';
import type { Answer, GroupSpec } from './answer';
import { Engine, KvBudgetError, type EngineOptions } from './engine';
import { parseGenerationConfig, type GenerationConfig, type GenerationConfigInput } from './generation-config';
import { promptSeed } from './rng-streams';
import { Qwen2SlotModel } from './slot-model';
import type { Completion, GenerateOptions, RolloutBackend, RolloutPrompt } from './types';

/** The config fields that decide what a set of weights computes: reloadWeights needs them equal. */
const SAME_NETWORK = [
  'modelType', 'vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim',
  'rmsNormEps', 'ropeTheta', 'tieWordEmbeddings', 'attentionBias', 'numLabels',
] as const satisfies readonly (keyof ModelConfig)[]; // prettier-ignore

/** End-of-sequence ids (model config, tokenizer eos) plus stop strings that are single added tokens. */
export function defaultStopTokenIds(tokenizer: Tokenizer, eosTokenId: number | number[] | undefined, config: GenerationConfig): number[] {
  const ids = new Set(config.stopTokenIds);
  if (!config.ignoreEos) {
    for (const id of eosTokenId === undefined ? [] : Array.isArray(eosTokenId) ? eosTokenId : [eosTokenId]) ids.add(id);
    const eos = tokenizer.config.eosToken;
    const id = eos === undefined ? undefined : tokenizer.tokenToId(eos);
    if (id !== undefined) ids.add(id);
  }
  for (const s of config.stop) {
    const id = tokenizer.tokenToId(s);
    if (id !== undefined && tokenizer.addedTokens.some((t) => t.id === id)) ids.add(id);
  }
  return [...ids];
}

export function toCompletion(a: Answer, promptIndex: number): Completion {
  const c: Completion = {
    promptIndex,
    sampleIndex: a.sampleIndex,
    promptTokens: a.group.promptLength,
    tokenIds: a.tokenIds,
    logprobs: a.logprobs,
    text: a.text,
    finishReason: a.finish?.reason ?? 'length',
  };
  if (a.finish?.stop !== undefined) c.stop = a.finish.stop;
  if (a.group.spec.config.topLogprobs > 0) c.topLogprobs = a.top;
  return c;
}

export interface LocalRolloutOptions extends EngineOptions {
  /**
   * Hold the weights packed for the cpu GEMM while generating (default true): batched decode steps then skip
   * packing them (#10). Costs one more copy of the weights in memory while the engine runs.
   */
  packWeights?: boolean;
}

export class LocalRollout implements RolloutBackend {
  readonly engine: Engine;
  private readonly slots: Qwen2SlotModel;

  constructor(
    readonly model: Qwen2Model,
    readonly tokenizer: Tokenizer,
    opts: LocalRolloutOptions = {},
  ) {
    this.slots = new Qwen2SlotModel(model, opts.packWeights ?? true);
    this.engine = new Engine(this.slots, tokenizer, opts);
  }

  /** Model and tokenizer from a Hugging Face checkpoint directory (tokenizer.json must be there). */
  static fromCheckpoint(dir: string, opts: LocalRolloutOptions = {}): LocalRollout {
    // a sequence classifier has nothing to sample from: named before loading
    checkCausalLm(
      dir,
      'it scores answers and cannot write them: give a causal LM checkpoint (the policy, e.g. runs/grpo-tiny or runs/pretrain-tiny)',
    );
    const tokenizerFile = join(dir, 'tokenizer.json');
    const tokenizer = Tokenizer.fromFile(tokenizerFile);
    checkVocabCovers(dir, tokenizer.vocabSize, tokenizerFile);
    return new LocalRollout(loadModel(dir), tokenizer, opts);
  }

  get contextLength(): number {
    return this.model.config.maxPositionEmbeddings;
  }

  encode(prompt: RolloutPrompt): number[] {
    return 'ids' in prompt ? [...prompt.ids] : this.tokenizer.encode(prompt.text, { addSpecialTokens: false });
  }

  async generate(
    prompts: readonly RolloutPrompt[],
    input: GenerationConfigInput = {},
    opts: GenerateOptions = {},
  ): Promise<Completion[][]> {
    const config = parseGenerationConfig(input);
    const stopTokenIds = defaultStopTokenIds(this.tokenizer, endOfSequenceIds(this.model.config), config);
    for (const p of prompts) {
      if (p.samples?.some((j) => !(Number.isInteger(j) && j >= 0 && j < config.n)))
        throw new UserError(`prompt samples must be indices in [0, ${config.n})`);
    }
    const start = { tokens: this.engine.stats.tokens, t: performance.now() };
    const total = prompts.reduce((n, p) => n + (p.samples?.length ?? config.n), 0);
    const progress = opts.progress ? new Progress({ label: opts.progress, total, unit: 'answers' }) : null;
    const onFinish = (p: number, a: Answer): void => {
      opts.onCompletion?.(toCompletion(a, p));
      const tokens = this.engine.stats.tokens - start.tokens;
      const seconds = (performance.now() - start.t) / 1000;
      progress?.tick(1, `${(tokens / Math.max(seconds, 1e-9)).toFixed(1)} tok/s`);
    };
    const encoded = prompts.map((prompt, p) => {
      const ids = this.encode(prompt);
      if (ids.length === 0) throw new UserError(`prompt ${p} is empty (0 tokens)`);
      if (ids.length >= this.contextLength) {
        throw new UserError(`prompt ${p} has ${ids.length} tokens: no room left in the ${this.contextLength}-token context`);
      }
      return ids;
    });
    const specs = prompts.map((prompt, p) => {
      const room = this.contextLength - encoded[p].length;
      return {
        promptIds: encoded[p],
        requestSeed: promptSeed(config.seed, prompt.index ?? p),
        maxNewTokens: Math.min(config.maxNewTokens ?? room, room),
        config,
        stopTokenIds,
        sampleIndices: prompt.samples,
        onFinish: (a: Answer) => onFinish(p, a),
      };
    });
    this.checkAll(specs);
    const handles = specs.map((spec) => this.engine.submit(spec));
    const answers = await Promise.all(handles.map((h) => h.done));
    return answers.map((group, p) => group.map((a) => toCompletion(a, p)));
  }

  /**
   * Every prompt is checked before any is queued: a refusal must not leave earlier prompts generating (and writing
   * sample lines) for a caller that has already failed. The refusal names its prompt; a prompt too long for the KV
   * budget on its own is named before one that only asks too many new tokens (no smaller ask would help it), and a
   * KV refusal carries the index and the most new tokens every prompt fits, for a caller to say so in its terms.
   */
  private checkAll(specs: readonly GroupSpec[]): void {
    const refusals = specs.map((spec) => {
      try {
        this.engine.check(spec);
        return undefined;
      } catch (e) {
        return e;
      }
    });
    let p = refusals.findIndex((e) => e instanceof KvBudgetError && e.fit < 1);
    if (p < 0) p = refusals.findIndex((e) => e !== undefined);
    if (p < 0) return;
    const e = refusals[p];
    if (e instanceof KvBudgetError) {
      const fitsEvery = Math.min(...specs.map((s) => this.engine.maxNewTokensWithinBudget(s.promptIds.length)));
      throw new KvBudgetError(`prompt ${p}: ${e.message}`, e.promptTokens, e.maxNewTokens, e.fit, { promptIndex: p, fitsEvery });
    }
    throw e instanceof UserError ? new UserError(`prompt ${p}: ${e.message}`) : e;
  }

  /**
   * Stream a checkpoint's weights into the live model; the engine and its caches stay. The checkpoint's
   * config.json must describe the same network (shapes, norm eps, RoPE base, tied head) and it may hold no tensor
   * the running model lacks: else its weights would be read as something they are not.
   */
  reloadWeights(dir: string): void {
    const theirs = readModelConfig(dir);
    const ours = this.model.config;
    const differ = SAME_NETWORK.filter((k) => theirs[k] !== ours[k]);
    if (differ.length) {
      const what = differ.map((k) => `${k} ${JSON.stringify(theirs[k])} (running: ${JSON.stringify(ours[k])})`).join(', ');
      throw new UserError(`${dir}: its config.json describes another network than the running model: ${what}; start a new rollout for it`);
    }
    const source = openWeights(dir);
    const names = new Set(this.model.store.params.map((p) => p.name));
    const extra = source.names().filter((n) => !names.has(n) && !isIgnorableTensor(n, ours));
    if (extra.length) throw new UserError(`${dir}: tensors the running model does not have: ${extra.slice(0, 5).join(', ')}`);
    for (const p of this.model.store.params) {
      const e = source.entry(p.name);
      if (!e) throw new UserError(`${dir}: no tensor "${p.name}" to reload into the running model`);
      if (e.shape.join() !== p.shape.join()) {
        throw new UserError(`${dir}: tensor "${p.name}" has shape [${e.shape.join(', ')}], the running model has [${p.shape.join(', ')}]`);
      }
      source.readInto(p.name, p.value.f32); // host parameters (a device model needs an upload here)
    }
    this.slots.repack(); // a running engine holds packed copies of the old values
  }

  async close(): Promise<void> {
    this.model.dispose();
  }
}
