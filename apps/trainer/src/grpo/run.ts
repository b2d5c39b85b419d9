// The GRPO loop (LongWriter-Zero's RL stage): per step, perStep prompts -> G answers each under the think
// template (the continuous-batching engine over the policy's own weights) -> length, format and quality
// rewards -> each reward normalised within its group and the advantages averaged (@lwz/rewards) -> the
// clipped policy loss over the answer tokens (update.ts) -> metrics, checkpoints, report. The run directory
// (config check, resume point, metrics, atomic checkpoints) is @lwz/training's RunDir. Resume is exact:
// step s's prompts, answer randomness and mini-batch order are pure functions of (seed, s), and the model,
// optimizer and RNG are checkpointed. With rollout.url the answers come from OpenAI-compatible servers
// instead: the policy is written to <out>/policy after each update and rollout.syncCommand makes the servers
// load it; old log-probs are then always recomputed here (the servers' are not exactly this policy's).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Progress, Rng, UserError, z } from '@lwz/core';
import { copy, defaultDevice, tensor, type Device, type Tensor } from '@lwz/kernels';
import {
  checkModelShape,
  enableLora,
  initModel,
  loadModel,
  modelPreset,
  Qwen2Model,
  readModelConfig,
  saveModel,
  type LoraOptions,
} from '@lwz/model';
import { AdamW, makeSchedule } from '@lwz/optimizer';
import { batchMonitors, combineRewards, contiguousGroups, createRewardDeps, scoreRewards, type RewardDeps } from '@lwz/rewards';
import { parseLlmClientConfig } from '@lwz/llm-client';
import { LocalRollout, RemoteRollout, type Completion, type RolloutBackend } from '@lwz/rollout';
import { Tokenizer, getTemplate, type PromptTemplate } from '@lwz/tokenizer';
import { FiniteGuard, RunDir, listCheckpoints, type ResumePoint, type StepNumbers } from '@lwz/training';
import type { TrainRow } from './batch';
import type { GrpoConfig } from './config';
import {
  fitPromptsToContext,
  loadPrompts,
  promptRenderer,
  stepPrompts,
  type GrpoPrompt,
  type PromptSource,
  type RenderedPrompt,
} from './prompts';
import { writeGrpoReport } from './report';
import { stepMetrics } from './step-metrics';
import { grpoUpdate, type UpdateResult } from './update';
import { RESUME_MUTABLE, checkpointFingerprint, checkpointTokenizer, contentFingerprint, resolveLanguageModel } from '../checkpoints';

export interface GrpoHooks {
  log?: (line: string) => void;
  /** stop after this many steps in this process (tests) */
  stopAfter?: number;
  progress?: boolean;
}

export interface GrpoResult {
  runDir: string;
  steps: number;
  resumedFrom: number | null;
  /** the final checkpoint directory (when the run finished) */
  finalCheckpoint: string | null;
  /** the start checkpoint directory (null: a random init) */
  initDir: string | null;
  /** the prompts the run drew from, and the held-out ones */
  prompts: PromptSource;
}

const grpoStateSchema = z.object({ seed: z.number().int(), promptCursor: z.number().int(), lora: z.boolean() }).strict();

/** The shape of a random start: the preset with the config's overrides (the tokenizer's ids added by startModel). */
const randomShape = (cfg: GrpoConfig) =>
  checkModelShape({ ...modelPreset(cfg.model.preset), ...cfg.model.overrides }, `model.preset ${cfg.model.preset} with model.overrides`);

/** The start policy: the init checkpoint directory (resolved), else a random init of the preset (seeded). */
function startModel(cfg: GrpoConfig, initDir: string | null, device: Device, tokenizer: Tokenizer): Qwen2Model {
  if (initDir) return loadModel(initDir, device, cfg.model.runtime);
  const eot = tokenizer.tokenToId('<|endoftext|>') ?? 0;
  const config = { ...randomShape(cfg), vocabSize: tokenizer.vocabSize, bosTokenId: eot, eosTokenId: eot };
  return initModel(config, new Rng(cfg.seed).split('init'), device, cfg.model.runtime);
}

/** Hand the updated policy to the rollout servers: <out>/policy (HF layout, atomic), then rollout.syncCommand. */
function syncPolicy(cfg: GrpoConfig, model: Qwen2Model, tokDir: string, step: number): void {
  const dir = join(cfg.out, 'policy');
  saveModel(model, dir, { tokenizer: tokDir });
  if (!cfg.rollout.syncCommand) return;
  const r = spawnSync(cfg.rollout.syncCommand, {
    shell: true,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, LWZ_POLICY_DIR: dir, LWZ_STEP: String(step) },
  });
  if (r.status !== 0)
    throw new UserError(`rollout.syncCommand exited with ${r.status ?? r.signal} after step ${step}; the servers may hold a stale policy`);
}

/**
 * The policy: the resumed checkpoint (full fine-tuning), or the start weights (+ LoRA adapters, restored by name on
 * resume); and the start policy for the KL where the loss or the metric needs it: a LoRA policy's own base (adapters
 * switched off; its weights never change), else a frozen copy of the start weights (a second model in memory).
 */
function startPolicy(
  cfg: GrpoConfig,
  initDir: string | null,
  device: Device,
  tokenizer: Tokenizer,
  resume: ResumePoint<z.infer<typeof grpoStateSchema>> | null,
): { model: Qwen2Model; ref: Qwen2Model | 'adapters-off' | undefined } {
  let model: Qwen2Model;
  if (resume && !cfg.model.lora) model = loadModel(resume.dir, device, cfg.model.runtime);
  else model = startModel(cfg, initDir, device, tokenizer);
  if (cfg.model.lora) {
    enableLora(model, cfg.model.lora as LoraOptions, new Rng(cfg.seed).split('lora')); // targets checked by enableLora
    if (resume) {
      const saved = resume.readTensors();
      for (const p of model.trainableParams()) {
        const v = saved[p.name];
        if (!v || v.length !== p.value.size) throw new UserError(`${resume.dir}: LoRA tensor ${p.name} missing or of the wrong size`);
        const src = tensor(v, p.shape, { device });
        copy(src, p.value);
        src.dispose();
      }
    }
  }
  const ref =
    cfg.klToStart || cfg.loss.klCoef > 0 ? (cfg.model.lora ? 'adapters-off' : startModel(cfg, initDir, device, tokenizer)) : undefined;
  return { model, ref };
}

/**
 * The rewards stage of a step: each answer as the assistant turn reads (the template's prefill, an opened <think>
 * or '', then the completion) scored for length, format and quality; the rewards combined into advantages within
 * each prompt's group of G; the batch monitors; and the rows the update trains on (skipped answers left out).
 */
export async function scoreAnswers(
  cfg: GrpoConfig,
  deps: RewardDeps,
  picked: readonly GrpoPrompt[],
  ids: readonly number[][],
  completions: readonly Completion[][],
  rendered: (p: GrpoPrompt) => RenderedPrompt,
) {
  const flat = completions.flatMap((cs, p) => cs.map((c) => ({ c, p, response: rendered(picked[p]).prefill + c.text })));
  const scored = await scoreRewards(
    flat.map(({ c, p, response }) => ({
      prompt: picked[p].prompt,
      response,
      length_range: picked[p].length_range,
      length: picked[p].length,
      finish_reason: c.finishReason,
    })),
    cfg.rewards,
    deps,
  );
  const groups = contiguousGroups(picked.length, cfg.rollout.n);
  const combined = combineRewards(scored, groups, cfg.rewards);
  const monitors = batchMonitors(scored, groups);
  const rows: TrainRow[] = [];
  flat.forEach(({ c, p }, i) => {
    if (scored.rows[i].skip) return;
    rows.push({ prompt: ids[p], answer: c.tokenIds, advantage: combined.advantages[i], group: p, logprobs: c.logprobs });
  });
  return { flat, scored, combined, monitors, rows };
}

/**
 * What the finite guard reads after a step's update (`step` counted from 1): the loss; the gradient norm (NaN when no
 * update was applied); and whether every update was skipped for a non-finite gradient norm. A mini-batch left idle
 * (no signal) is not a failure: a step with one is not counted towards the guard's skipped steps in a row.
 */
export function guardNumbers(upd: UpdateResult, step: number, lr: number): StepNumbers {
  return {
    step,
    loss: upd.loss,
    gradNorm: upd.updates ? upd.gradNorm : NaN,
    lr,
    skipped: upd.skipped > 0 && upd.updates + upd.idle === 0,
  };
}

/**
 * What a run checks and resolves before its run directory exists, so that a start that cannot run leaves no run
 * directory behind: the start checkpoint, the scorers, the rollout servers' URLs, the tokenizer, the prompts and
 * their room in the model's context.
 */
interface GrpoSetup {
  initDir: string | null;
  /** the tokenizer's directory (the start checkpoint, or model.tokenizer for a random start) */
  tokDir: string;
  tokenizer: Tokenizer;
  template: PromptTemplate;
  rendered: (p: GrpoPrompt) => RenderedPrompt;
  prompts: PromptSource;
  context: number;
  deps: RewardDeps;
  /** config.json's content: the config with the start's and the scorers' fingerprints */
  runConfig: Record<string, unknown>;
}

function prepareGrpo(cfg: GrpoConfig, log: (line: string) => void): GrpoSetup {
  if (cfg.model.lora && !cfg.model.init)
    throw new UserError(
      `model.lora is set but model.init is not: LoRA adapts a pretrained checkpoint, and without one ${cfg.name} would train adapters on a random ${cfg.model.preset} model. ` +
        'Pass --init DIR (a Hugging Face checkpoint on disk, such as a download of Qwen/Qwen2.5-0.5B-Instruct for the qwen2.5-0.5b preset) or use a config without model.lora for full fine-tuning',
    );
  const initDir = cfg.model.init
    ? resolveLanguageModel(
        cfg.model.init,
        '--init',
        'GRPO',
        'a reward model scores answers instead: set rewards.quality.options.checkpoint to it',
      )
    : null;
  // the start checkpoint's fingerprint and the scorers' ids (a reward model's id carries its weights'
  // fingerprint) are part of the checked config: a run never resumes on a changed base or reward model
  const start = initDir ? { init: initDir, fingerprint: checkpointFingerprint(initDir) } : null;
  const deps = createRewardDeps(cfg.rewards);
  if (cfg.rollout.url) parseLlmClientConfig({ baseUrls: cfg.rollout.url, model: cfg.rollout.model ?? 'unresolved' }, 'rollout.url');
  if (cfg.rollout.url && !cfg.rollout.syncCommand)
    log(
      'warning: rollout.url without rollout.syncCommand: the servers keep the weights they loaded, so after the first update ' +
        'every answer comes from the start policy, not the one being trained (metric rollout/logprob_abs_diff grows). ' +
        `Set rollout.syncCommand to a command that makes them load ${join(cfg.out, 'policy')} (written after each update; env LWZ_POLICY_DIR, LWZ_STEP)`,
    );
  if (cfg.rewards.quality.scorer === 'constant')
    log(
      'warning: rewards.quality.scorer is constant: every answer gets the same quality reward, so its advantage is 0 and only ' +
        'the length and format rewards steer the policy. Give a quality scorer: --judge-url URL --judge-model NAME, or ' +
        '--set rewards.quality.scorer=builtin-rm rewards.quality.options.checkpoint=DIR (a train-rm model; onnx-rm for an exported one)',
    );
  const scorers = { quality: deps.quality.id, lengthPredictor: deps.predictor.id };
  const why = 'GRPO renders prompts and decodes answers with it';
  const tokDir = initDir ?? cfg.model.tokenizer;
  if (!initDir && !existsSync(join(tokDir, 'tokenizer.json')))
    throw new UserError(
      `model.tokenizer: ${tokDir} has no tokenizer.json (${why}): point model.tokenizer at a directory holding one, e.g. dist/data/tokenizer after \`npx nx run trainer:pretrain\``,
    );
  const tokenizer = initDir ? checkpointTokenizer(initDir, why) : Tokenizer.fromFile(join(tokDir, 'tokenizer.json'));
  const template = getTemplate(cfg.template);
  const rendered = promptRenderer(tokenizer, template);
  // the prompt file's rows that leave no room for an answer in the model's context (read from config.json, before
  // any weight loads)
  const prompts = loadPrompts(cfg);
  const context = (initDir ? readModelConfig(initDir) : randomShape(cfg)).maxPositionEmbeddings;
  fitPromptsToContext(cfg, prompts, context, (p) => rendered(p).ids, template.name, log);
  // a prompt file's rows too (the ones trained on): its path alone would let a run resume on an edited file
  const promptsFingerprint = cfg.prompts.file ? { promptsFingerprint: contentFingerprint(prompts.train) } : {};
  const runConfig = { ...cfg, start, scorers, ...promptsFingerprint };
  return { initDir, tokDir, tokenizer, template, rendered, prompts, context, deps, runConfig };
}

/** A run's loop state: the setup, its run directory, the policy and its optimizer, the rollout backend. */
interface GrpoLoop extends GrpoSetup {
  cfg: GrpoConfig;
  run: RunDir<z.infer<typeof grpoStateSchema>>;
  model: Qwen2Model;
  ref: Qwen2Model | 'adapters-off' | undefined;
  opt: AdamW;
  grads: Tensor[];
  lrAt: (step: number) => number;
  rollout: RolloutBackend;
  /** old log-probs from a forward here, not the rollout's (always with rollout servers) */
  recomputeOld: boolean;
  guard: FiniteGuard;
}

/**
 * One GRPO step (0-based `step`): its prompts' G answers, their rewards and advantages, the update (stopped by the
 * guard on a non-finite loss before anything is written), the policy handed to the rollout servers, the metrics
 * row, and the checkpoint and report when due. Returns the progress line's text.
 */
async function grpoStep(l: GrpoLoop, step: number): Promise<string> {
  const { cfg, prompts, context, rendered } = l;
  const t0 = performance.now();
  const picked = stepPrompts(prompts.train.length, cfg.prompts.perStep, cfg.seed, step).map((i) => prompts.train[i]);
  const ids = picked.map((p) => rendered(p).ids);
  // each prompt's answers are capped by its own room (the backends clamp per prompt): one long prompt in a step
  // must not cut every other prompt's answers short, which turns their length and format rewards into noise
  const tight = ids.findIndex((x) => context - x.length < 2);
  if (tight >= 0) throw new UserError(`a prompt of ${ids[tight].length} tokens leaves no room in the ${context}-token context`);
  const completions: Completion[][] = await l.rollout.generate(
    ids.map((x, k) => ({ ids: x, index: step * cfg.prompts.perStep + k })),
    {
      n: cfg.rollout.n,
      temperature: cfg.rollout.temperature,
      topP: cfg.rollout.topP,
      maxNewTokens: cfg.rollout.maxNewTokens,
      seed: cfg.seed,
      stop: [...l.template.stopStrings],
    },
  );
  const t1 = performance.now();
  const { flat, scored, combined, monitors, rows } = await scoreAnswers(cfg, l.deps, picked, ids, completions, rendered);
  const t2 = performance.now();
  const lr = l.lrAt(step);
  // the reference forward only where the KL is in the loss or the metric is due (a diagnostic with klCoef 0)
  const klDue = l.ref !== undefined && (cfg.loss.klCoef > 0 || step === 0 || (step + 1) % cfg.klEvery === 0);
  const upd = rows.length
    ? grpoUpdate({
        model: l.model,
        ...(klDue ? { ref: l.ref } : {}),
        optimizer: l.opt,
        grads: l.grads,
        rows,
        loss: cfg.loss,
        ppoEpochs: cfg.ppoEpochs,
        miniBatches: cfg.miniBatches,
        microBatchTokens: cfg.microBatchTokens,
        recomputeOld: l.recomputeOld,
        gradClip: cfg.optim.gradClip,
        lr,
        rng: new Rng(cfg.seed).split(`step/${step}`),
      })
    : null;
  const done = step + 1;
  // a NaN loss stops the run here: before the servers load the policy, and before its metrics and checkpoint
  if (upd) l.guard.check(guardNumbers(upd, done, lr));
  if (cfg.rollout.url) syncPolicy(cfg, l.model, l.tokDir, done);
  const t3 = performance.now();
  const genTokens = flat.reduce((n, { c }) => n + c.tokenIds.length, 0);
  l.run.appendMetrics(
    stepMetrics({
      step: done,
      flat,
      scored,
      combined,
      monitors,
      upd,
      recomputeOld: l.recomputeOld,
      klDue,
      lr,
      rows: rows.length,
      genTokens,
      template: cfg.template,
      tokenizer: l.tokenizer,
      times: [t0, t1, t2, t3],
      sample: done % cfg.sampleSteps === 0 || step === 0 ? picked : null,
    }),
  );
  if (done % cfg.checkpointEvery === 0 || done === cfg.steps)
    l.run.saveCheckpoint({
      step: done,
      model: l.model,
      optimizer: l.opt,
      state: { seed: cfg.seed, promptCursor: done * cfg.prompts.perStep, lora: !!cfg.model.lora },
      ...(cfg.model.lora
        ? { tensors: Object.fromEntries(l.model.trainableParams().map((p) => [p.name, Float32Array.from(p.value.toHost())])) }
        : {}),
      modelOptions: { tokenizer: l.tokDir },
    });
  if (done % cfg.reportEvery === 0 || done === cfg.steps) writeGrpoReport(cfg, l.run.metricsPath, prompts.origin, null);
  const r = (k: string) => Number(monitors[`reward/${k}/mean`] ?? 0).toFixed(2);
  return `len ${r('length')} fmt ${r('format')} q ${r('quality')} ${(genTokens / ((t3 - t0) / 1000)).toFixed(0)} tok/s`;
}

export async function runGrpo(cfg: GrpoConfig, hooks: GrpoHooks = {}): Promise<GrpoResult> {
  const log = hooks.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const setup = prepareGrpo(cfg, log);
  const { initDir, tokenizer, prompts, context } = setup;
  const run = RunDir.open({
    dir: cfg.out,
    config: setup.runConfig,
    stateSchema: grpoStateSchema,
    keepLast: cfg.keepLast,
    mutable: RESUME_MUTABLE,
  });
  const resume = run.resume;
  const device = cfg.device === 'auto' ? defaultDevice() : cfg.device;

  const { model, ref } = startPolicy(cfg, initDir, device, tokenizer, resume);
  const named = model.trainableParams().map((p) => {
    p.grad ??= tensor(new Float32Array(p.value.size), p.shape, { device });
    return { name: p.name, param: p.value, grad: p.grad };
  });
  const o = cfg.optim;
  const opt = new AdamW(named, { beta1: o.beta1, beta2: o.beta2, weightDecay: o.weightDecay });
  resume?.restoreOptimizer(opt);
  const remote = cfg.rollout.url;
  const rollout: RolloutBackend = remote
    ? new RemoteRollout({ baseUrls: remote, tokenizer, contextLength: context, ...(cfg.rollout.model ? { model: cfg.rollout.model } : {}) })
    : new LocalRollout(model, tokenizer, { maxBatch: cfg.rollout.maxBatch });
  const loop: GrpoLoop = {
    ...setup,
    cfg,
    run,
    model,
    ref,
    opt,
    grads: named.map((p) => p.grad),
    lrAt: makeSchedule(o.schedule, { lr: o.lr, warmupSteps: o.warmupSteps, totalSteps: cfg.steps, minLrRatio: o.minLrRatio }),
    rollout,
    recomputeOld: cfg.recomputeOldLogprobs || !!remote,
    guard: new FiniteGuard({ what: 'lwz-train train', runDir: cfg.out, start: resume?.dir ?? initDir, lrKey: 'optim.lr' }),
  };
  const first = run.startStep;
  log(
    `grpo ${cfg.name} on ${device}: ${named.reduce((a, p) => a + p.param.size, 0)} trainable parameters, prompts ${prompts.origin}, ` +
      `${cfg.prompts.perStep} x G=${cfg.rollout.n} answers per step, ` +
      (resume ? `resuming at step ${first} from ${resume.dir}` : `from ${cfg.model.init ?? `a random ${cfg.model.preset}`}`),
  );
  const progress = new Progress({
    label: cfg.name,
    total: cfg.steps,
    initial: first,
    unit: 'step',
    ...(hooks.progress === false ? { stream: { write: () => true } } : {}),
  });
  let ran = 0;
  try {
    for (let step = first; step < cfg.steps; step++) {
      if (hooks.stopAfter !== undefined && ran >= hooks.stopAfter) break;
      const line = await grpoStep(loop, step);
      ran++;
      progress.tick(1, line);
    }
  } finally {
    await rollout.close(); // the local engine disposes the policy model
    if (remote) model.dispose();
    if (ref instanceof Qwen2Model) ref.dispose();
  }
  const steps = first + ran;
  const ckpts = listCheckpoints(cfg.out);
  const finalCheckpoint = steps === cfg.steps && ckpts.length ? ckpts[ckpts.length - 1].dir : null;
  log(`${ran} steps run in this process${resume ? ` (resumed at step ${first})` : ''}; report ${join(cfg.out, 'report.html')}`);
  opt.dispose();
  return { runDir: cfg.out, steps, resumedFrom: resume ? first : null, finalCheckpoint, initDir, prompts };
}
