// `train-rm`: the built-in reward model. The pretrained tiny LM plus a value head (score.weight), trained
// Bradley-Terry on preference pairs (pairs.ts): loss = mean softplus(s_rejected - s_chosen) + centerCoef *
// mean(s^2). Held-out pairwise accuracy per corruption type on pairs from the corpus's val documents,
// before training and at each evaluation. The run directory (config check, exact resume, metrics.jsonl,
// atomic checkpoints) is @lwz/training's RunDir, as for pretrain and GRPO. The losses and the accuracy are
// objective.ts; this file is the run loop. Not the scorer (libs/judges).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Progress, Rng, UserError, readJsonl, writeJsonl, z } from '@lwz/core';
import { documentSentences, generateWritingPrompts, readCorpusSplit, EMBEDDED_LENGTH_BUDGET } from '@lwz/data';
import { rmEndId, rmInputIds } from '@lwz/judges';
import { defaultDevice, tensor, type Tensor } from '@lwz/kernels';
import { addValueHead, loadModel, saveModel, type Qwen2Model } from '@lwz/model';
import { AdamW, clipGradNorm, makeSchedule } from '@lwz/optimizer';
import { LocalRollout } from '@lwz/rollout';
import { THINK_TEMPLATE, parseCompletion, renderPromptFor, type Tokenizer } from '@lwz/tokenizer';
import { FiniteGuard, RunDir, type MetricsRow } from '@lwz/training';
import { RESUME_MUTABLE, checkpointFingerprint, checkpointTokenizer, contentFingerprint, resolveLanguageModel } from '../checkpoints';
import type { RmConfig } from './config';
import { bradleyTerryStep, bradleyTerryTokenStep, heldoutAccuracy, lmLossStep, rejectedBreakTokens } from './objective';
import {
  CORRUPTIONS,
  firstPerType,
  heldoutPairs,
  policyText,
  ruleBaselines,
  streamBatch,
  type Corruption,
  type PreferencePair,
} from './pairs';
import { writeRmReport, type RmAccuracy, type RmSummary } from './report';

export type { RmAccuracy, RmSummary };

export interface RmHooks {
  log?: (line: string) => void;
  /** stop after this many updates in this process (tests simulate a crash with it) */
  stopAfter?: number;
  progress?: boolean;
}

const rmStateSchema = z.object({ seed: z.number().int(), pairsSeen: z.number().int() }).strict();

/** Answers of the start policy on generated training prompts (think template), kept in the run directory. */
async function policyAnswers(cfg: RmConfig, initDir: string, file: string, log: (l: string) => void): Promise<string[]> {
  if (cfg.policySamples === 0 || !cfg.types.includes('policy')) return [];
  if (existsSync(file)) return readJsonl<{ answer: string }>(file).map((r) => r.value.answer);
  log(`sampling ${cfg.policySamples} answers from ${initDir} for the "policy" pairs`);
  const { train } = generateWritingPrompts({
    seed: cfg.seed,
    train: cfg.policySamples,
    heldout: 1,
    heldoutTopicFraction: 0.2,
    budget: EMBEDDED_LENGTH_BUDGET,
  });
  const rollout = LocalRollout.fromCheckpoint(initDir, { maxBatch: 32 });
  try {
    const renders = train.map((p) => renderPromptFor(rollout.tokenizer, THINK_TEMPLATE, p.prompt));
    const ids = renders.map((r) => rollout.tokenizer.encode(r.text, { addSpecialTokens: false }));
    const room = Math.min(...ids.map((x) => rollout.contextLength - x.length));
    const out = await rollout.generate(
      ids.map((x, k) => ({ ids: x, index: k })),
      {
        n: 1,
        temperature: 1,
        maxNewTokens: Math.min(cfg.policyMaxNewTokens, room),
        seed: cfg.seed + 17,
        stop: [...THINK_TEMPLATE.stopStrings],
      },
    );
    // the writing itself: the answer block (else the completion), without markup, cut to whole sentences
    // (policyText); answers left empty, and repeats (the held-out half must not share a text with the training
    // half), are dropped
    const seen = new Set<string>();
    const kept: { prompt: string; response: string; answer: string }[] = [];
    out.forEach((cs, k) => {
      const response = renders[k].prefill + cs[0].text; // after an opened <think> of the chat template
      const answer = policyText(parseCompletion(response, 'think').answer ?? response);
      if (answer === null || seen.has(answer)) return;
      seen.add(answer);
      kept.push({ prompt: train[k].prompt, response, answer });
    });
    log(`policy pairs: ${kept.length} of ${out.length} sampled answers hold a whole sentence of their own`);
    writeJsonl(file, kept);
    return kept.map((r) => r.answer);
  } finally {
    await rollout.close();
  }
}

/**
 * The training pairs: `batchAt(step)` is update `step`'s batch (a fresh stretch of the seeded stream, or with
 * distinctPairs = N the stream's first N pairs cycled), `trainSample` the first trainSamplePerType pairs per
 * type the run trains on (scored next to the held-out pairs: fitting vs generalising).
 */
export function trainingPairs(
  cfg: RmConfig,
  docs: readonly string[][],
  types: readonly Corruption[],
  pairOpts: { words: readonly [number, number]; dropShare: number },
  policy: readonly string[],
): { batchAt: (step: number) => PreferencePair[]; trainSample: PreferencePair[] } {
  const P = cfg.pairsPerStep;
  const streamAt = (step: number) => streamBatch(docs, cfg.seed, step, P, types, pairOpts, policy);
  const firstPairs = (n: number) => {
    const out: PreferencePair[] = [];
    for (let s = 0; out.length < n && s < n; s++) out.push(...streamAt(s));
    if (!out.length) throw new UserError(`train-rm: the corpus gives no training pairs of ${pairOpts.words.join('-')} words`);
    return out.slice(0, n);
  };
  const pool = cfg.distinctPairs > 0 ? firstPairs(cfg.distinctPairs) : null;
  const batchAt = (step: number) => (pool ? Array.from({ length: P }, (_, i) => pool[(step * P + i) % pool.length]) : streamAt(step));
  function* batches(): Generator<readonly PreferencePair[]> {
    if (pool) yield pool;
    else for (let s = 0; s < cfg.steps; s++) yield streamAt(s);
  }
  return { batchAt, trainSample: cfg.trainSamplePerType > 0 ? firstPerType(batches(), cfg.trainSamplePerType, types) : [] };
}

/** The corpus's train and val documents as sentences, each split checked to hold a passage; the pair options. */
function rmCorpus(cfg: RmConfig) {
  const types: readonly Corruption[] = CORRUPTIONS.filter((t) => cfg.types.includes(t));
  const train = documentSentences(readCorpusSplit(cfg.corpus, 'train'));
  const val = documentSentences(readCorpusSplit(cfg.corpus, 'val'));
  const pairOpts = { words: cfg.words, dropShare: cfg.dropShare };
  const words = `${cfg.words[0]}-${cfg.words[1]}`;
  for (const [name, docs] of [
    ['train', train],
    ['val', val],
  ] as const) {
    if (!docs.length)
      throw new UserError(
        `${cfg.corpus}: the ${name} split has no document of 4 sentences or more, which the preference pairs' passages (${words} words) ` +
          `are cut from; add longer documents${name === 'val' ? ' or hold out more of them (lwz-train data corpus --val-fraction)' : ''}`,
      );
  }
  return { types, train, val, pairOpts, words };
}

/**
 * One update's losses, gradients accumulated into the model: Bradley-Terry on the pairs (per token where tokenCoef >
 * 0) and the auxiliary LM loss on the chosen passages where lmCoef > 0. `seqs` are the pairs' encoded texts, chosen
 * then rejected.
 */
function rmLosses(
  model: Qwen2Model,
  cfg: RmConfig,
  tokenizer: Tokenizer,
  endId: number,
  pairs: readonly PreferencePair[],
  seqs: number[][],
) {
  const r =
    cfg.tokenCoef > 0
      ? bradleyTerryTokenStep(
          model,
          seqs,
          pairs.flatMap((p, i) => [seqs[2 * i].length, rejectedBreakTokens(tokenizer, p)]),
          endId,
          cfg.centerCoef,
          cfg.tokenCoef,
          cfg.microBatchTokens,
        )
      : { ...bradleyTerryStep(model, seqs, endId, cfg.centerCoef, cfg.microBatchTokens), tokenLoss: undefined };
  // the auxiliary LM loss reads the chosen passages: seqs' even entries
  const lmLoss =
    cfg.lmCoef > 0
      ? lmLossStep(
          model,
          seqs.filter((_, i) => i % 2 === 0),
          endId,
          cfg.lmCoef,
        )
      : undefined;
  return { r, lmLoss };
}

/**
 * The held-out pairs and the training pair stream. "policy" pairs use answers sampled from the start checkpoint
 * (kept in `samplesFile`; `fresh` samples them again): the second half held out, the first trained on. Each lack
 * (too few usable answers, no held-out pair) is named with its fix.
 */
async function rmPairs(
  cfg: RmConfig,
  corpus: ReturnType<typeof rmCorpus>,
  initDir: string,
  samplesFile: string,
  fresh: boolean,
  log: (l: string) => void,
) {
  const { types, train, val, pairOpts, words } = corpus;
  if (fresh) rmSync(samplesFile, { force: true });
  const policy = await policyAnswers(cfg, initDir, samplesFile, log);
  // the "policy" pairs need an answer in each half (held out, trained on); answers without a whole sentence are dropped
  if (cfg.types.includes('policy') && policy.length < 2)
    throw new UserError(
      `${policy.length} of the ${cfg.policySamples} answers sampled from ${initDir} for the "policy" pairs hold a whole sentence of their own, ` +
        'and they need 2 or more: raise policyMaxNewTokens or policySamples (--set policyMaxNewTokens=N), start from a longer-trained checkpoint, or drop "policy" from types',
    );
  const half = Math.floor(policy.length / 2);
  const heldout = heldoutPairs(val, cfg.seed + 1, cfg.heldoutPerType, types, pairOpts, policy.slice(half));
  if (!heldout.length)
    throw new UserError(
      `${cfg.corpus}: the val split's documents give no held-out pair of ${words} words; add longer documents or lower words (--set 'words=[lo,hi]')`,
    );
  return { heldout, ...trainingPairs(cfg, train, types, pairOpts, policy.slice(0, half)) };
}

/** The finished run's held-out accuracy per type, the quality-blind rules' on the same pairs, the training sample's. */
function logRmResult(summary: RmSummary, rules: ReturnType<typeof ruleBaselines>, log: (line: string) => void): void {
  const after = summary.after as RmAccuracy;
  const per = Object.entries(after.byType).map(([t, v]) => `${t} ${(100 * v.accuracy).toFixed(0)}%`);
  log(`done: held-out pairwise accuracy ${(100 * after.all).toFixed(1)}% (${per.join(', ')}); checkpoint ${summary.checkpoint}`);
  const rulePer = (k: 'longer' | 'ending') => CORRUPTIONS.flatMap((t) => (rules[t] ? [`${t} ${(100 * rules[t][k]).toFixed(0)}%`] : []));
  log(
    `rules blind to quality on the same pairs: "longer wins" ${(100 * (rules.all?.longer ?? NaN)).toFixed(1)}% (${rulePer('longer').join(', ')}), ` +
      `"finished ending wins" ${(100 * (rules.all?.ending ?? NaN)).toFixed(1)}% (${rulePer('ending').join(', ')})`,
  );
  if (summary.trainSampleAfter) {
    const perTrain = Object.entries(summary.trainSampleAfter.byType).map(([t, v]) => `${t} ${(100 * v.accuracy).toFixed(0)}%`);
    log(`training-pair sample accuracy ${(100 * summary.trainSampleAfter.all).toFixed(1)}% (${perTrain.join(', ')})`);
  }
}

/** A run's loop state: the model, its optimizer, the pair stream and the held-out pairs (encoded once). */
interface RmLoop {
  cfg: RmConfig;
  run: RunDir<z.infer<typeof rmStateSchema>>;
  model: Qwen2Model;
  tokenizer: Tokenizer;
  endId: number;
  encode: (text: string) => number[];
  batchAt: (step: number) => PreferencePair[];
  heldout: PreferencePair[];
  heldoutSeqs: number[][];
  trainSampleAccuracy: () => RmAccuracy | null;
  opt: AdamW;
  grads: Tensor[];
  lrAt: (step: number) => number;
  guard: FiniteGuard;
  initDir: string;
}

/** An evaluation's held-out accuracy and the training sample's. */
interface RmEvaluation {
  after: RmAccuracy;
  trainSampleAfter: RmAccuracy | null;
}

/**
 * One update (0-based `step`): the pair losses and the optimizer step (skipped on a non-finite gradient; the guard
 * stops the run on a non-finite loss before anything is written), the metrics row with the held-out evaluation when
 * due, and the checkpoint when due. Returns the progress line's text and the evaluation, if one ran.
 */
function rmStep(l: RmLoop, step: number): { line: string; evaluated?: RmEvaluation } {
  const { cfg, model } = l;
  const t0 = performance.now();
  const pairs = l.batchAt(step);
  model.zeroGrad();
  const { r, lmLoss } = rmLosses(
    model,
    cfg,
    l.tokenizer,
    l.endId,
    pairs,
    pairs.flatMap((p) => [l.encode(p.chosen), l.encode(p.rejected)]),
  );
  const clip = clipGradNorm(l.grads, cfg.gradClip);
  const lr = l.lrAt(step);
  if (clip.finite) l.opt.step(lr); // an inf/NaN gradient would make every weight and moment NaN: skipped, as in GRPO
  const done = step + 1;
  // a NaN loss (the pair loss or the auxiliary LM loss) stops the run here, before metrics and checkpoint
  l.guard.check({ step: done, loss: r.loss + (lmLoss ?? 0), gradNorm: clip.norm, lr, skipped: !clip.finite });
  const metrics: MetricsRow = {
    step: done,
    'train/loss': r.loss,
    'train/accuracy': r.accuracy,
    ...(r.tokenLoss === undefined ? {} : { 'train/token_loss': r.tokenLoss }),
    ...(lmLoss === undefined ? {} : { 'train/lm_loss': lmLoss }),
    'train/lr': lr,
    'train/grad_norm': clip.norm,
    ...(clip.finite ? {} : { 'train/skipped_updates': 1 }),
    'time/step_s': (performance.now() - t0) / 1000,
  };
  let evaluated: RmEvaluation | undefined;
  if (done % cfg.evalEvery === 0 || done === cfg.steps) {
    const after = heldoutAccuracy(model, l.heldout, l.heldoutSeqs, l.endId);
    metrics['val/accuracy'] = after.all;
    for (const [t, v] of Object.entries(after.byType)) metrics[`val/accuracy/${t}`] = v.accuracy;
    const trainSampleAfter = l.trainSampleAccuracy();
    if (trainSampleAfter) {
      metrics['train_sample/accuracy'] = trainSampleAfter.all;
      for (const [t, v] of Object.entries(trainSampleAfter.byType)) metrics[`train_sample/accuracy/${t}`] = v.accuracy;
    }
    evaluated = { after, trainSampleAfter };
  }
  l.run.appendMetrics(metrics);
  if (done % cfg.checkpointEvery === 0 || done === cfg.steps)
    l.run.saveCheckpoint({
      step: done,
      model,
      optimizer: l.opt,
      state: { seed: cfg.seed, pairsSeen: done * cfg.pairsPerStep },
      modelOptions: { tokenizer: l.initDir },
    });
  const line = `loss ${r.loss.toFixed(3)} acc ${r.accuracy.toFixed(2)}${evaluated ? ` val ${evaluated.after.all.toFixed(3)}` : ''}`;
  return evaluated ? { line, evaluated } : { line };
}

/**
 * The held-out and training-sample accuracies before the first update: measured and written to summary.json by a
 * fresh run, read back from it by a resumed one (whose model has moved since).
 */
function accuracyBefore(
  run: RunDir<z.infer<typeof rmStateSchema>>,
  runDir: string,
  resumed: boolean,
  heldout: () => RmAccuracy,
  trainSample: () => RmAccuracy | null,
): { before: RmAccuracy | null; trainSampleBefore: RmAccuracy | null } {
  const summaryPath = run.path('summary.json');
  const saved = resumed && existsSync(summaryPath) ? (JSON.parse(readFileSync(summaryPath, 'utf8')) as RmSummary) : null;
  const before: RmAccuracy | null = saved ? saved.before : heldout();
  const trainSampleBefore: RmAccuracy | null = saved ? (saved.trainSampleBefore ?? null) : trainSample();
  if (!resumed)
    run.writeJson('summary.json', {
      runDir,
      steps: 0,
      resumedFrom: null,
      checkpoint: null,
      before,
      after: null,
      trainSampleBefore,
      trainSampleAfter: null,
    } satisfies RmSummary);
  return { before, trainSampleBefore };
}

export async function runTrainRm(cfg: RmConfig, hooks: RmHooks = {}): Promise<RmSummary> {
  const log = hooks.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const initDir = resolveLanguageModel(cfg.init, '--init', 'a reward model');
  // the tokenizer before the run directory: a start that cannot run leaves no run directory behind
  const tokenizer = checkpointTokenizer(initDir, 'the reward model reads its passages with it');
  // the corpus, too, before the run directory
  const corpus = rmCorpus(cfg);
  // the start checkpoint is part of the checked config: a run never resumes on a changed base
  const run = RunDir.open({
    dir: cfg.out,
    // the corpus's documents too: its path alone would let a run resume on a changed corpus
    config: { ...cfg, initFingerprint: checkpointFingerprint(initDir), corpusFingerprint: contentFingerprint([corpus.train, corpus.val]) },
    stateSchema: rmStateSchema,
    keepLast: cfg.keepLast,
    mutable: RESUME_MUTABLE,
  });
  const resume = run.resume;
  const device = cfg.device === 'auto' ? defaultDevice() : cfg.device;
  // a fresh run samples the policy answers again: a file left by an earlier start may come from other settings
  const { heldout, batchAt, trainSample } = await rmPairs(cfg, corpus, initDir, run.path('policy-samples.jsonl'), !resume, log);
  let model = loadModel(resume ? resume.dir : initDir, device, cfg.runtime);
  if (!resume) model = addValueHead(model, new Rng(cfg.seed).split('value-head'));
  const endId = rmEndId(tokenizer, model.config.eosTokenId);
  const encode = (t: string) => rmInputIds(tokenizer, t, endId, cfg.maxTokens);
  const heldoutSeqs = heldout.flatMap((p) => [encode(p.chosen), encode(p.rejected)]); // encoded once, scored at every evaluation
  const trainSampleSeqs = trainSample.flatMap((p) => [encode(p.chosen), encode(p.rejected)]);
  const trainSampleAccuracy = () => (trainSample.length ? heldoutAccuracy(model, trainSample, trainSampleSeqs, endId) : null);
  const named = model.trainableParams().map((p) => {
    p.grad ??= tensor(new Float32Array(p.value.size), p.shape, { device });
    return { name: p.name, param: p.value, grad: p.grad };
  });
  const grads = named.map((p) => p.grad);
  const opt = new AdamW(named, { weightDecay: cfg.weightDecay });
  resume?.restoreOptimizer(opt);
  const lrAt = makeSchedule(cfg.schedule, { lr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps: cfg.steps, minLrRatio: cfg.minLrRatio });
  const first = run.startStep;
  const { before, trainSampleBefore } = accuracyBefore(
    run,
    cfg.out,
    !!resume,
    () => heldoutAccuracy(model, heldout, heldoutSeqs, endId),
    trainSampleAccuracy,
  );
  log(
    `train-rm ${cfg.name} on ${device}: ${heldout.length} held-out pairs, ${corpus.types.join('/')}; ` +
      (resume ? `resuming at step ${first}` : `from ${initDir}, held-out accuracy before ${(before?.all ?? NaN).toFixed(3)}`),
  );
  const progress = new Progress({
    label: cfg.name,
    total: cfg.steps,
    initial: first,
    unit: 'step',
    ...(hooks.progress === false ? { stream: { write: () => true } } : {}),
  });
  const guard = new FiniteGuard({ what: 'lwz-train train-rm', runDir: cfg.out, start: resume?.dir ?? initDir, lrKey: 'lr' });
  const loop: RmLoop = {
    cfg,
    run,
    model,
    tokenizer,
    endId,
    encode,
    batchAt,
    heldout,
    heldoutSeqs,
    trainSampleAccuracy,
    opt,
    grads,
    lrAt,
    guard,
    initDir,
  };
  let evaluated: RmEvaluation | null = null;
  let ran = 0;
  for (let step = first; step < cfg.steps; step++) {
    if (hooks.stopAfter !== undefined && ran >= hooks.stopAfter) break;
    const r = rmStep(loop, step);
    evaluated = r.evaluated ?? evaluated;
    ran += 1;
    progress.tick(1, r.line);
  }
  const steps = first + ran;
  const summary: RmSummary = {
    runDir: cfg.out,
    steps,
    resumedFrom: resume ? first : null,
    checkpoint: null,
    before,
    after: null,
    trainSampleBefore,
    trainSampleAfter: null,
  };
  if (steps === cfg.steps) {
    summary.after = evaluated ? evaluated.after : heldoutAccuracy(model, heldout, heldoutSeqs, endId);
    summary.trainSampleAfter = evaluated ? evaluated.trainSampleAfter : trainSampleAccuracy();
    // the reward model scorers load: <out>/model, rewritten whole (atomically) whenever the run completes
    summary.checkpoint = join(cfg.out, 'model');
    saveModel(model, summary.checkpoint, { tokenizer: initDir });
    run.writeJson('summary.json', summary);
    const rules = ruleBaselines(heldout);
    writeRmReport(cfg, run.metricsPath, summary, heldout, rules);
    logRmResult(summary, rules, log);
  }
  log(`${ran} steps run in this process${resume ? ` (resumed at step ${first})` : ''}`);
  model.dispose();
  opt.dispose();
  return summary;
}
