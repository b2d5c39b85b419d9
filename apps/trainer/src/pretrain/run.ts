// The pretraining loop (the paper's continual-pretraining stage, and how the embedded default gets a base
// model at all): next-token loss on packed windows, AdamW with warmup + decay, global-norm clipping,
// validation on a schedule, and a self-contained report. The run directory (config check, resume point,
// metrics.jsonl, atomic checkpoints) is @lwz/training's RunDir; this file only trains. Resume is exact
// because batch `step` is a pure function of (seed, step) and the model and optimizer are checkpointed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Progress, Rng, UserError, pathKind, z } from '@lwz/core';
import { defaultDevice, tensor, type Device } from '@lwz/kernels';
import { checkModelShape, checkVocabCovers, initModel, loadModel, modelPreset, readModelConfig, type Qwen2Model } from '@lwz/model';
import { AdamW, clipGradNorm, makeSchedule } from '@lwz/optimizer';
import { Tokenizer } from '@lwz/tokenizer';
import {
  WindowSampler,
  checkTokenizerHash,
  readShardIndex,
  readShardTokens,
  spreadBatches,
  tokenizerFileHash,
  type WindowBatch,
} from '@lwz/data';
import { FiniteGuard, RunDir, type MetricsRow, type ResumePoint } from '@lwz/training';
import type { PretrainConfig } from './config';
import { unigramEntropy } from './unigram';
import { continueText } from './samples';
import { writePretrainReport, type PretrainSummary } from './report';
import { repeatSpansInBatch } from './repeat-spans';
import { RESUME_MUTABLE, checkSameTokenizer, resolveLanguageModel } from '../checkpoints';
import { ROLE_COPY, ROLE_FIRST, frequentTokens, meanLossOfRole, randomRepeatsInBatch } from './random-repeats';

export interface PretrainResult extends PretrainSummary {
  runDir: string;
  resumedFrom: number | null;
}

export interface PretrainHooks {
  log?: (line: string) => void;
  /** stop after this many updates in this process (tests simulate a crash with it) */
  stopAfter?: number;
  /** show the progress bar / periodic progress lines on stderr (default true) */
  progress?: boolean;
}

/**
 * Inputs and next-token targets of a batch; with `padId`, a target padId after an input padId is ignored (-1): runs of
 * eot fill the gaps before format samples (data:prepare's alignment padding, 8 % of the default train split), and a
 * real document boundary is one eot between two documents, never two in a row. `scored`: the targets kept.
 */
function splitBatch(b: WindowBatch, device: Device, padId?: number) {
  const { B, T, tokens } = b;
  const ids = new Int32Array(B * T); // (B, T)
  const targets = new Int32Array(B * T); // (B, T)
  for (let r = 0; r < B; r++) {
    ids.set(tokens.subarray(r * (T + 1), r * (T + 1) + T), r * T);
    targets.set(tokens.subarray(r * (T + 1) + 1, (r + 1) * (T + 1)), r * T);
  }
  let scored = B * T;
  if (padId !== undefined)
    for (let i = 0; i < B * T; i++)
      if (ids[i] === padId && targets[i] === padId) {
        targets[i] = -1;
        scored--;
      }
  return { ids: tensor(ids, [B, T], { device, dtype: 'i32' }), targets: tensor(targets, [B, T], { device, dtype: 'i32' }), scored };
}

/**
 * Mean next-token loss of the model on a batch (over the targets kept: with `padId`, padding predicting padding is
 * not trained or counted); with `train`, also accumulates gradients of that mean. `onLogprobs` sees the per-token
 * log-probs (B * T, row-major; 0 at ignored targets) before they are freed.
 */
export function batchLoss(
  model: Qwen2Model,
  b: WindowBatch,
  train: boolean,
  onLogprobs?: (logprobs: Float32Array) => void,
  padId?: number,
): number {
  const device = model.device;
  const { ids, targets, scored } = splitBatch(b, device, padId);
  const n = Math.max(scored, 1); // a batch of padding alone (none in windows of the prepared width) has no loss
  const { logprobs } = model.forwardLogprobs({ ids, targets }, { grad: train });
  const host = logprobs.toHost() as Float32Array;
  let sum = 0;
  for (const v of host) sum += v;
  onLogprobs?.(host);
  logprobs.dispose();
  if (train) {
    const weights = tensor(new Float32Array(b.B * b.T).fill(-1 / n), [b.B, b.T], { device }); // dLoss/dlogprob (0 where ignored)
    model.backward(weights);
    weights.dispose();
  }
  ids.dispose();
  targets.dispose();
  return -sum / n;
}

/** The pretraining optimizer: AdamW over every trainable parameter (grads allocated here when missing). */
export function pretrainOptimizer(model: Qwen2Model, cfg: Pick<PretrainConfig, 'beta1' | 'beta2' | 'weightDecay'>) {
  const device = model.device;
  const named = model.trainableParams().map((p) => {
    p.grad ??= tensor(new Float32Array(p.value.size), p.shape, { device });
    return { name: p.name, param: p.value, grad: p.grad };
  });
  const opt = new AdamW(named, { beta1: cfg.beta1, beta2: cfg.beta2, weightDecay: cfg.weightDecay });
  return { named, grads: named.map((p) => p.grad), opt };
}

export interface PretrainUpdate {
  loss: number;
  /** global gradient norm before clipping */
  gradNorm: number;
  /** the gradient held an inf or NaN, so no step was taken (it would have made every weight and moment NaN) */
  skipped: boolean;
}

/**
 * One pretraining update on `batch`: zero the grads, mean next-token loss and its gradients, global-norm
 * clipping to `gradClip`, an AdamW step at `lr` (the loop below and the copy-task check share it).
 */
export function pretrainUpdate(
  model: Qwen2Model,
  optim: ReturnType<typeof pretrainOptimizer>,
  batch: WindowBatch,
  lr: number,
  gradClip: number,
  onLogprobs?: (logprobs: Float32Array) => void,
  padId?: number,
): PretrainUpdate {
  model.zeroGrad();
  const loss = batchLoss(model, batch, true, onLogprobs, padId);
  const clip = clipGradNorm(optim.grads, gradClip);
  if (clip.finite) optim.opt.step(lr); // as GRPO's update: the next batch zeroes the grads
  return { loss, gradNorm: clip.norm, skipped: !clip.finite };
}

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

/** Mean loss over `evalBatches` batches of the validation split spread evenly over it (all of them if fewer). */
function validationLoss(model: Qwen2Model, tokens: Int32Array, cfg: PretrainConfig): number {
  let total = 0;
  let rows = 0;
  for (const b of spreadBatches(tokens, cfg.batchSize, cfg.seqLen, cfg.evalBatches)) {
    total += batchLoss(model, b, false) * b.B;
    rows += b.B;
  }
  return total / rows;
}

/** The shards, checked against the tokenizer file they must have been made with. */
function loadData(cfg: PretrainConfig, tokenizerPath: string) {
  const index = readShardIndex(cfg.data);
  checkTokenizerHash(cfg.data, index, tokenizerFileHash(tokenizerPath));
  const valName = ['val', 'validation'].find((k) => index.splits[k]);
  if (!index.splits.train || !valName) {
    throw new UserError(
      `${cfg.data}: shards need "train" and "val" splits, found ${Object.keys(index.splits).join(', ')}; run npx nx run data:prepare`,
    );
  }
  // format samples lie whole inside windows of the width they were placed for: other windows cut them (at seqLen 256
  // on the default shards, 1,652 of 2,193 lose their prompt or their closing tags)
  const w = index.formatWindow;
  if (w !== undefined && cfg.seqLen % w !== 0)
    throw new UserError(
      `${join(cfg.data, 'index.json')}: its format samples were placed whole inside ${w}-token windows, and seqLen ${cfg.seqLen} is not a multiple of ${w}, ` +
        `so its windows would cut them; set seqLen to a multiple of ${w} (--set seqLen=${w}) or rebuild the shards with \`lwz-train data prepare --format-window ${cfg.seqLen}\``,
    );
  const train = readShardTokens(cfg.data, 'train', index);
  const val = readShardTokens(cfg.data, valName, index);
  // one window is seqLen + 1 tokens (inputs and their next-token targets)
  const atLeastOneWindow = (name: string, tokens: Int32Array, fix: string) => {
    if (tokens.length < cfg.seqLen + 1)
      throw new UserError(
        `${cfg.data}: the ${name} split holds ${tokens.length} tokens, fewer than one window of seqLen + 1 = ${cfg.seqLen + 1}; ${fix} or lower seqLen (--set seqLen=N)`,
      );
  };
  atLeastOneWindow('train', train, 'add text to the corpus');
  // an empty val split: no seqLen helps (a corpus of one document, or --val-fraction 0)
  if (index.splits[valName].docs.length === 0)
    throw new UserError(
      `${cfg.data}: the ${valName} split holds no document, so there is nothing to evaluate on; rebuild the corpus with --val-fraction above 0 ` +
        'from 2 documents or more (lwz-train data corpus: a single document always goes to train), then its shards (lwz-train data prepare)',
    );
  atLeastOneWindow(valName, val, 'raise the share of documents held out (lwz-train data corpus --val-fraction)');
  return { index, train, val };
}

/** What pretraining keeps in trainer_state.json beside the step (a record; resume needs only the step). */
const pretrainStateSchema = z.object({ seed: z.number().int(), tokensSeen: z.number().int() }).strict();
type PretrainState = z.output<typeof pretrainStateSchema>;

/** The resumed checkpoint's model, else `model.init`, else a random init from the preset. */
function startModel(
  cfg: PretrainConfig,
  initDir: string | null,
  resume: ResumePoint<PretrainState> | null,
  device: Device,
  vocabSize: number,
  eot: number,
) {
  const runtime = cfg.model.runtime;
  if (resume) return loadModel(resume.dir, device, runtime);
  if (initDir) return loadModel(initDir, device, runtime);
  const config = checkModelShape(
    { ...modelPreset(cfg.model.preset), ...cfg.model.overrides, vocabSize, bosTokenId: eot, eosTokenId: eot },
    `model.preset ${cfg.model.preset} with model.overrides`,
  );
  return initModel(config, new Rng(cfg.seed).split('init'), device, runtime);
}

/**
 * seqLen within the model's context: positions past max_position_embeddings would be trained on while the saved
 * checkpoint claims the shorter context (checked before the run directory is made).
 */
function checkSeqLenFits(cfg: PretrainConfig, initDir: string | null): void {
  const context = initDir
    ? readModelConfig(initDir).maxPositionEmbeddings
    : ({ ...modelPreset(cfg.model.preset), ...cfg.model.overrides }.maxPositionEmbeddings as number);
  if (cfg.seqLen > context)
    throw new UserError(
      `seqLen ${cfg.seqLen} is longer than the model's ${context}-token context (max_position_embeddings of ` +
        `${initDir ?? `model.preset ${cfg.model.preset} with model.overrides`}): lower seqLen (--set seqLen=${context})` +
        (initDir ? ', or start from a longer-context checkpoint' : ', or raise model.overrides.maxPositionEmbeddings'),
    );
}

/** What a run checks before its run directory exists: the tokenizer, the start checkpoint, the context, the shards. */
function preparePretrain(cfg: PretrainConfig) {
  // the shards' index is part of the checked config: a run never resumes on changed data (e.g. after data:prepare reran)
  const shards = existsSync(join(cfg.data, 'index.json'))
    ? createHash('sha256')
        .update(readFileSync(join(cfg.data, 'index.json')))
        .digest('hex')
        .slice(0, 16)
    : null;
  if (pathKind(cfg.tokenizer) === 'file')
    throw new UserError(
      `tokenizer: ${cfg.tokenizer} is a file; give the directory holding tokenizer.json (--set tokenizer=${dirname(cfg.tokenizer)})`,
    );
  const tokenizerPath = join(cfg.tokenizer, 'tokenizer.json');
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  // a start checkpoint must embed every id of the shards' tokenizer: checked before the run directory is made
  const initDir = cfg.model.init ? resolveLanguageModel(cfg.model.init, '--init', 'pretraining') : null;
  if (initDir) checkVocabCovers(initDir, tokenizer.vocabSize, tokenizerPath);
  if (initDir)
    checkSameTokenizer(
      initDir,
      tokenizer,
      tokenizerPath,
      `pretrain on shards made with the checkpoint's tokenizer (lwz-train data prepare --tokenizer ${initDir}, then --set tokenizer=${initDir} data=<those shards>), or start from a checkpoint made for ${tokenizerPath}`,
    );
  checkSeqLenFits(cfg, initDir);
  const data = loadData(cfg, tokenizerPath); // missing or mismatched shards, too
  return { shards, tokenizer, initDir, data };
}

/** A run's loop state: the model and its optimizer, the window sampler, the data and the guard. */
interface PretrainLoop {
  cfg: PretrainConfig;
  run: RunDir<z.infer<typeof pretrainStateSchema>>;
  model: Qwen2Model;
  optim: ReturnType<typeof pretrainOptimizer>;
  lrAt: (step: number) => number;
  sampler: WindowSampler;
  pool: ReturnType<typeof frequentTokens> | null;
  data: ReturnType<typeof loadData>;
  guard: FiniteGuard;
}

/**
 * One update (0-based `step`): its batch of windows (with the optional copy curricula), the update (the guard stops
 * the run on a non-finite loss before anything is written), the metrics row with the validation loss when due, and
 * the checkpoint when due. Returns the progress line's text and the validation loss, if one ran.
 */
function pretrainStep(l: PretrainLoop, step: number): { line: string; valLoss?: number } {
  const { cfg, model, data } = l;
  const tokensPerStep = cfg.batchSize * cfg.seqLen;
  const t0 = performance.now();
  const batch = l.sampler.batch(step, cfg.batchSize);
  if (cfg.repeatSpans) repeatSpansInBatch(batch, cfg.repeatSpans, cfg.seed, step);
  const roles = cfg.randomRepeats && l.pool ? randomRepeatsInBatch(batch, cfg.randomRepeats, l.pool, cfg.seed, step).roles : undefined;
  const byRole = { first: NaN, copy: NaN };
  const onLogprobs = roles
    ? (host: Float32Array) => {
        byRole.first = meanLossOfRole(host, roles, batch.B, batch.T, ROLE_FIRST);
        byRole.copy = meanLossOfRole(host, roles, batch.B, batch.T, ROLE_COPY);
      }
    : undefined;
  const lr = l.lrAt(step);
  const { loss, gradNorm, skipped } = pretrainUpdate(model, l.optim, batch, lr, cfg.gradClip, onLogprobs, data.index.eotId);
  const seconds = (performance.now() - t0) / 1000;
  const done = step + 1;
  l.guard.check({ step: done, loss, gradNorm, lr, skipped }); // a NaN loss stops the run here, before metrics and checkpoint
  const metrics: MetricsRow = {
    step: done,
    'train/loss': loss,
    'train/lr': lr,
    'train/grad_norm': gradNorm,
    ...(skipped ? { 'train/skipped_updates': 1 } : {}),
    // only with randomRepeats (null in a step with no changed row), so unset = today's metrics
    ...(roles ? { 'train/copy_loss': finiteOrNull(byRole.copy), 'train/random_loss': finiteOrNull(byRole.first) } : {}),
    'perf/tokens_per_s': tokensPerStep / seconds,
    'time/step_s': seconds,
  };
  const valLoss = done % cfg.evalEvery === 0 || done === cfg.steps ? validationLoss(model, data.val, cfg) : undefined;
  if (valLoss !== undefined) Object.assign(metrics, { 'val/loss': valLoss, 'val/ppl': Math.exp(valLoss) });
  l.run.appendMetrics(metrics);
  if (done % cfg.checkpointEvery === 0 || done === cfg.steps)
    l.run.saveCheckpoint({
      step: done,
      model,
      optimizer: l.optim.opt,
      state: { seed: cfg.seed, tokensSeen: done * tokensPerStep },
      modelOptions: { tokenizer: cfg.tokenizer },
    });
  const line = `loss ${loss.toFixed(3)}${valLoss !== undefined && Number.isFinite(valLoss) ? ` val ${valLoss.toFixed(3)}` : ''}`;
  return valLoss === undefined ? { line } : { line, valLoss };
}

export function runPretrain(cfg: PretrainConfig, hooks: PretrainHooks = {}): PretrainResult {
  const log = hooks.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const { shards, tokenizer, initDir, data } = preparePretrain(cfg);
  const run = RunDir.open({
    dir: cfg.out,
    config: { ...cfg, shards },
    stateSchema: pretrainStateSchema,
    keepLast: cfg.keepLast,
    mutable: RESUME_MUTABLE,
  });
  const resume = run.resume;
  const device = cfg.device === 'auto' ? defaultDevice() : cfg.device;
  const eot = data.index.eotId;
  const model = startModel(cfg, initDir, resume, device, tokenizer.vocabSize, eot);
  const optim = pretrainOptimizer(model, cfg);
  const { named, opt } = optim;
  resume?.restoreOptimizer(opt);
  const lrAt = makeSchedule(cfg.schedule, { lr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps: cfg.steps, minLrRatio: cfg.minLrRatio });
  const sampler = new WindowSampler(data.train, cfg.seqLen, cfg.seed);
  const pool = cfg.randomRepeats ? frequentTokens(data.train, cfg.randomRepeats.topTokens, eot) : null;
  const first = run.startStep;
  log(
    `pretrain ${cfg.name} on ${device}: ${named.reduce((a, p) => a + p.param.size, 0)} parameters, ${data.train.length} train tokens, ` +
      (resume ? `resuming at step ${first} from ${resume.dir}` : initDir ? `from ${initDir}` : 'from scratch'),
  );
  const silent = { write: () => true };
  const progress = new Progress({
    label: cfg.name,
    total: cfg.steps,
    initial: first,
    unit: 'step',
    ...(hooks.progress === false ? { stream: silent } : {}),
  });
  let valLoss = NaN;
  let ran = 0;
  const guard = new FiniteGuard({ what: 'lwz-train pretrain', runDir: cfg.out, start: resume?.dir ?? initDir, lrKey: 'lr' });
  const loop: PretrainLoop = { cfg, run, model, optim, lrAt, sampler, pool, data, guard };
  for (let step = first; step < cfg.steps; step++) {
    if (hooks.stopAfter !== undefined && ran >= hooks.stopAfter) break;
    const r = pretrainStep(loop, step);
    if (r.valLoss !== undefined) valLoss = r.valLoss;
    ran += 1;
    progress.tick(1, r.line);
  }
  const result: PretrainResult = {
    runDir: cfg.out,
    steps: first + ran,
    resumedFrom: resume ? first : null,
    valLoss,
    unigramEntropy: NaN,
    samples: [],
  };
  if (result.steps === cfg.steps) {
    // finished (the last step always saves a checkpoint); a run resumed at its end has not validated yet
    if (!Number.isFinite(valLoss)) valLoss = result.valLoss = validationLoss(model, data.val, cfg);
    result.unigramEntropy = unigramEntropy(data.train);
    const rng = new Rng(cfg.seed).split('samples');
    result.samples = cfg.samples.prompts.map((prompt) => ({
      prompt,
      text: continueText(
        model,
        tokenizer,
        prompt,
        { maxNewTokens: cfg.samples.maxNewTokens, temperature: cfg.samples.temperature, stopId: eot },
        rng,
      ),
    }));
    run.writeJson('summary.json', result);
    writePretrainReport(cfg, run.metricsPath, result);
    log(
      `done: val loss ${valLoss.toFixed(3)} nats/token (ppl ${Math.exp(valLoss).toFixed(1)}) vs unigram entropy ${result.unigramEntropy.toFixed(3)}; report ${join(cfg.out, 'report.html')}`,
    );
  }
  log(`${ran} steps run in this process${resume ? ` (resumed at step ${first})` : ''}`);
  model.dispose();
  opt.dispose();
  return result;
}
