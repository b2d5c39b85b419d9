// The pretraining loop (the paper's continual-pretraining stage, and how the embedded default gets a base
// model at all): next-token loss on packed windows, AdamW with warmup + decay, global-norm clipping,
// validation on a schedule, metrics.jsonl, atomic checkpoints, exact resume, a self-contained report.
// Resume is exact because batch `step` is a pure function of (seed, step) and all state is checkpointed.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Progress, Rng, UserError, appendJsonl, parseJsonl, writeJsonAtomic, writeJsonl } from '@lwz/core';
import { defaultDevice, tensor, type Device } from '@lwz/kernels';
import { initModel, loadModel, modelPreset, type Qwen2Model } from '@lwz/model';
import { AdamW, clipGradNorm, makeSchedule } from '@lwz/optimizer';
import { Tokenizer } from '@lwz/tokenizer';
import {
  WindowSampler,
  checkTokenizerHash,
  readShardIndex,
  readShardTokens,
  sequentialBatches,
  tokenizerFileHash,
  type WindowBatch,
} from '@lwz/data';
import type { PretrainConfig } from './config';
import { listCheckpoints, readOptimizerState, readTrainerState, saveCheckpoint } from './checkpoints';
import { unigramEntropy } from './unigram';
import { continueText } from './samples';
import { writePretrainReport } from './report';

export interface PretrainResult {
  runDir: string;
  steps: number;
  resumedFrom: number | null;
  valLoss: number;
  unigramEntropy: number;
  samples: { prompt: string; text: string }[];
}

export interface PretrainHooks {
  log?: (line: string) => void;
  /** stop after this many updates in this process (tests simulate a crash with it) */
  stopAfter?: number;
  /** show the progress bar / periodic progress lines on stderr (default true) */
  progress?: boolean;
}

function splitBatch(b: WindowBatch, device: Device) {
  const { B, T, tokens } = b;
  const ids = new Int32Array(B * T); // (B, T)
  const targets = new Int32Array(B * T); // (B, T)
  for (let r = 0; r < B; r++) {
    ids.set(tokens.subarray(r * (T + 1), r * (T + 1) + T), r * T);
    targets.set(tokens.subarray(r * (T + 1) + 1, (r + 1) * (T + 1)), r * T);
  }
  return { ids: tensor(ids, [B, T], { device, dtype: 'i32' }), targets: tensor(targets, [B, T], { device, dtype: 'i32' }) };
}

/** Mean next-token loss of the model on a batch; with `train`, also accumulates gradients of that mean. */
function batchLoss(model: Qwen2Model, b: WindowBatch, train: boolean): number {
  const device = model.device;
  const { ids, targets } = splitBatch(b, device);
  const n = b.B * b.T;
  const { logprobs } = model.forwardLogprobs({ ids, targets }, { grad: train });
  let sum = 0;
  for (const v of logprobs.toHost()) sum += v;
  logprobs.dispose();
  if (train) {
    const weights = tensor(new Float32Array(n).fill(-1 / n), [b.B, b.T], { device }); // dLoss/dlogprob
    model.backward(weights);
    weights.dispose();
  }
  ids.dispose();
  targets.dispose();
  return -sum / n;
}

/** Mean loss over the first `evalBatches` batches of the validation split, in split order. */
function validationLoss(model: Qwen2Model, tokens: Int32Array, cfg: PretrainConfig): number {
  let total = 0;
  let rows = 0;
  let batches = 0;
  for (const b of sequentialBatches(tokens, cfg.batchSize, cfg.seqLen)) {
    if (batches++ >= cfg.evalBatches) break;
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
  return { index, train: readShardTokens(cfg.data, 'train', index), val: readShardTokens(cfg.data, valName, index) };
}

/** A fresh run, or the resumed state of the newest complete checkpoint in the run directory. */
function startModel(cfg: PretrainConfig, device: Device, vocabSize: number, eot: number) {
  const latest = listCheckpoints(cfg.out).at(-1);
  const runtime = cfg.model.runtime;
  if (latest) return { model: loadModel(latest.dir, device, runtime), resume: { dir: latest.dir, state: readTrainerState(latest.dir) } };
  if (cfg.model.init) return { model: loadModel(cfg.model.init, device, runtime), resume: null };
  const config = { ...modelPreset(cfg.model.preset), ...cfg.model.overrides, vocabSize, bosTokenId: eot, eosTokenId: eot };
  return { model: initModel(config, new Rng(cfg.seed).split('init'), device, runtime), resume: null };
}

/**
 * Keep metric lines up to `step` (a resumed run re-logs the steps after its checkpoint). A process killed
 * mid-append can leave a partial last line: it is dropped; a bad line elsewhere is an error.
 */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const lines = readFileSync(path, 'utf8').split('\n');
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  const last = lines.pop();
  const kept = parseJsonl<{ step: number }>(lines.join('\n'), path).map((r) => r.value);
  try {
    if (last !== undefined) kept.push(JSON.parse(last) as { step: number });
  } catch {
    // the interrupted append
  }
  writeJsonl(
    path,
    kept.filter((v) => v.step <= step),
  );
}

export function runPretrain(cfg: PretrainConfig, hooks: PretrainHooks = {}): PretrainResult {
  const log = hooks.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const configPath = join(cfg.out, 'config.json');
  if (existsSync(configPath) && listCheckpoints(cfg.out).length) {
    const saved = readFileSync(configPath, 'utf8');
    if (saved.trim() !== JSON.stringify(cfg, null, 2)) {
      throw new UserError(
        `${cfg.out} holds a run with a different config (${configPath}); use another --out, or delete the directory to start over`,
      );
    }
  }
  writeJsonAtomic(configPath, cfg);
  const device = cfg.device === 'auto' ? defaultDevice() : cfg.device;
  const tokenizerPath = join(cfg.tokenizer, 'tokenizer.json');
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  const data = loadData(cfg, tokenizerPath);
  const eot = data.index.eotId;
  const { model, resume } = startModel(cfg, device, tokenizer.vocabSize, eot);
  const metricsPath = join(cfg.out, 'metrics.jsonl');
  if (resume) truncateMetrics(metricsPath, resume.state.step);
  else rmSync(metricsPath, { force: true });
  const named = model.trainableParams().map((p) => {
    p.grad ??= tensor(new Float32Array(p.value.size), p.shape, { device });
    return { name: p.name, param: p.value, grad: p.grad };
  });
  const grads = named.map((p) => p.grad);
  const opt = new AdamW(named, { beta1: cfg.beta1, beta2: cfg.beta2, weightDecay: cfg.weightDecay });
  if (resume) opt.loadState(readOptimizerState(resume.dir, resume.state.optimizer));
  const lrAt = makeSchedule(cfg.schedule, { lr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps: cfg.steps, minLrRatio: cfg.minLrRatio });
  const sampler = new WindowSampler(data.train, cfg.seqLen, cfg.seed);
  const first = resume?.state.step ?? 0;
  log(
    `pretrain ${cfg.name} on ${device}: ${named.reduce((a, p) => a + p.param.size, 0)} parameters, ${data.train.length} train tokens, ` +
      (resume ? `resuming at step ${first} from ${resume.dir}` : 'from scratch'),
  );
  const silent = { write: () => true };
  const progress = new Progress({
    label: cfg.name,
    total: cfg.steps,
    initial: first,
    unit: 'step',
    ...(hooks.progress === false ? { stream: silent } : {}),
  });
  const tokensPerStep = cfg.batchSize * cfg.seqLen;
  let valLoss = NaN;
  let ran = 0;
  for (let step = first; step < cfg.steps; step++) {
    if (hooks.stopAfter !== undefined && ran >= hooks.stopAfter) break;
    const t0 = performance.now();
    model.zeroGrad();
    const loss = batchLoss(model, sampler.batch(step, cfg.batchSize), true);
    const clip = clipGradNorm(grads, cfg.gradClip);
    const lr = lrAt(step);
    opt.step(lr);
    const seconds = (performance.now() - t0) / 1000;
    const done = step + 1;
    const metrics: Record<string, number> = {
      step: done,
      'train/loss': loss,
      'train/lr': lr,
      'train/grad_norm': clip.norm,
      'perf/tokens_per_s': tokensPerStep / seconds,
      'time/step_s': seconds,
    };
    if (done % cfg.evalEvery === 0 || done === cfg.steps) {
      valLoss = validationLoss(model, data.val, cfg);
      Object.assign(metrics, { 'val/loss': valLoss, 'val/ppl': Math.exp(valLoss) });
    }
    appendJsonl(metricsPath, metrics);
    ran += 1;
    progress.tick(1, `loss ${loss.toFixed(3)}${Number.isFinite(metrics['val/loss']) ? ` val ${valLoss.toFixed(3)}` : ''}`);
    if (done % cfg.checkpointEvery === 0 || done === cfg.steps) {
      saveCheckpoint(
        cfg.out,
        model,
        opt,
        { format: 'lwz-trainer-state/1', step: done, seed: cfg.seed, tokensSeen: done * tokensPerStep },
        {
          tokenizerDir: cfg.tokenizer,
          keepLast: cfg.keepLast,
        },
      );
    }
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
    writeJsonAtomic(join(cfg.out, 'summary.json'), result);
    writePretrainReport(cfg, metricsPath, result);
    log(
      `done: val loss ${valLoss.toFixed(3)} nats/token (ppl ${Math.exp(valLoss).toFixed(1)}) vs unigram entropy ${result.unigramEntropy.toFixed(3)}; report ${join(cfg.out, 'report.html')}`,
    );
  }
  model.dispose();
  opt.dispose();
  return result;
}
