// The copy-task check against PyTorch (issue #11): one random init of a small Qwen2 model (the `tiny` preset
// with overrides), trained on the copy task (copy-task.ts) by our pretraining update and by PyTorch
// (benchmarks/model/torch_copy.py: the torch_step.py decoder loaded with the same weights, the same batches,
// torch.optim.AdamW with our hyper-parameters and per-step learning rates). Prints both loss curves side by
// side, every parameter's step-0 gradient norm on both sides, and the steps until the second-copy loss
// collapses; writes compare.json into --out.
//   npx tsx apps/trainer/src/pretrain/copy-vs-torch.ts --layers 2 --hidden 64 --steps 600 [--torch 0] [--float64 1]
// Flags: layers hidden heads kvHeads ffn vocab span batch steps lr warmup minLrRatio weightDecay gradClip seed
// torch (0 = ours only) float64 (also a float64 torch run) out (default a temp dir) schedule logEvery.
// Curriculum flags (issue #11, ours only): subset K (each window's tokens from its own K random ids), pool N (ids
// drawn only from the N most frequent tokens of the --shards directory's train split, default dist/data/shards), init CKPT (start
// from a saved model, e.g. a pretraining checkpoint, instead of a random init; implies --torch 0), evalEvery
// and evalBatches (copy loss of fresh windows drawn from the training distribution, the whole vocabulary and
// the top-1024 ids, without training), save DIR (the trained model, e.g. for a later --init).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@lwz/core';
import { readShardTokens } from '@lwz/data';
import { defaultDevice } from '@lwz/kernels';
import { initModel, loadModel, modelPreset, saveModel, type ModelConfig } from '@lwz/model';
import { DEFAULT_ADAMW, makeSchedule } from '@lwz/optimizer';
import { copyTaskBatch, evalCopyLoss, trainCopyTask, type CopyDraw, type CopyTaskOptions } from './copy-task';
import { frequentTokens } from './random-repeats';
import { batchLoss } from './run';

interface TorchRow {
  loss: number;
  copyLoss: number;
  gradNorm: number;
}
interface TorchOut {
  torch: string;
  rows: TorchRow[];
  grad0: Record<string, number>;
}

const SCRIPT = fileURLToPath(new URL('../../../../benchmarks/model/torch_copy.py', import.meta.url));
const PYTHON = process.env.LWZ_TORCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

function flags(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`expected --flag value pairs, got ${argv.slice(i).join(' ')}`);
    m.set(argv[i].slice(2), argv[i + 1]);
  }
  return m;
}

/** First step from which the second-copy loss stays below `bound` for the rest of the run (-1: never). */
export function collapseStep(copyLosses: number[], bound: number): number {
  let at = -1;
  for (let i = copyLosses.length - 1; i >= 0 && copyLosses[i] < bound; i--) at = i;
  return at;
}

function main(): void {
  const f = flags(process.argv.slice(2));
  const num = (k: string, d: number) => (f.has(k) ? Number(f.get(k)) : d);
  const hidden = num('hidden', 64);
  const heads = num('heads', 4);
  const initDir = f.get('init');
  const preset: ModelConfig = {
    ...modelPreset('tiny'),
    numLayers: num('layers', 2),
    hiddenSize: hidden,
    numHeads: heads,
    numKvHeads: num('kvHeads', heads / 2),
    headDim: hidden / heads,
    intermediateSize: num('ffn', 2 * hidden),
    vocabSize: num('vocab', 64),
  };
  const o: CopyTaskOptions = {
    span: num('span', 16),
    batchSize: num('batch', 16),
    steps: num('steps', 600),
    seed: num('seed', 1),
    lr: num('lr', 3e-3),
    warmupSteps: num('warmup', 20),
    schedule: f.get('schedule') ?? 'cosine',
    minLrRatio: num('minLrRatio', 0.1),
    beta1: DEFAULT_ADAMW.beta1,
    beta2: DEFAULT_ADAMW.beta2,
    weightDecay: num('weightDecay', DEFAULT_ADAMW.weightDecay),
    gradClip: num('gradClip', 1),
  };
  const out = f.get('out') ?? mkdtempSync(join(tmpdir(), 'lwz-copy-'));
  const model = initDir ? loadModel(initDir, defaultDevice()) : initModel(preset, new Rng(o.seed).split('init'), defaultDevice());
  const config = model.config;
  const useTorch = !initDir && num('torch', 1) !== 0;
  mkdirSync(out, { recursive: true });
  if (useTorch) saveModel(model, join(out, 'init'));
  const evalEvery = num('evalEvery', 0);
  const needTop = f.has('pool') || evalEvery > 0;
  // the most frequent ids of the training shard, counted once (end-of-text included: exclude -1 matches no id)
  const topN = Math.min(1024, config.vocabSize);
  const poolN = f.has('pool') ? num('pool', 1024) : 0;
  const ranked = needTop
    ? frequentTokens(readShardTokens(f.get('shards') ?? 'dist/data/shards', 'train'), Math.max(topN, poolN), -1)
    : null;
  const top = ranked ? ranked.subarray(0, topN) : null;
  const poolIds = ranked && poolN > 0 ? ranked.subarray(0, poolN) : undefined;
  const draw: CopyDraw = { pool: poolIds, subset: f.has('subset') ? num('subset', 64) : undefined };
  o.draw = draw;
  const W = 2 * o.span + 1;
  const all = new Int32Array(o.steps * o.batchSize * W);
  for (let s = 0; s < o.steps; s++)
    all.set(copyTaskBatch(o.seed, s, o.batchSize, o.span, config.vocabSize, draw).tokens, s * o.batchSize * W);
  writeFileSync(join(out, 'batches.i32'), all);
  const lrAt = makeSchedule(o.schedule, { lr: o.lr, warmupSteps: o.warmupSteps, totalSteps: o.steps, minLrRatio: o.minLrRatio });
  const lrs = Array.from({ length: o.steps }, (_, s) => lrAt(s));
  const spec = { B: o.batchSize, L: o.span, lrs, ...DEFAULT_ADAMW, weightDecay: o.weightDecay, gradClip: o.gradClip };
  writeFileSync(join(out, 'spec.json'), JSON.stringify(spec));
  console.log(
    `copy task: ${JSON.stringify({ ...config, ...o, draw: { subset: draw.subset, pool: poolIds?.length }, init: initDir, out })}`,
  );

  // step 0's gradients before any update (the training loop clips them in place)
  batchLoss(model, copyTaskBatch(o.seed, 0, o.batchSize, o.span, config.vocabSize, draw), true);
  const grad0: Record<string, number> = {};
  for (const p of model.trainableParams()) {
    let ss = 0;
    for (const v of p.grad?.toHost() ?? []) ss += v * v;
    grad0[p.name] = Math.sqrt(ss);
  }
  const logEvery = num('logEvery', 50);
  const evalBatches = num('evalBatches', 4);
  const evals: { step: number; train: number; full: number; top1024: number; fullFirst: number; top1024First: number }[] = [];
  const evaluate = (step: number) => {
    const at = (d: CopyDraw) => evalCopyLoss(model, o.seed, evalBatches, o.batchSize, o.span, d);
    const [tr, full] = [at(draw), at({})];
    const tp = top ? at({ pool: top }) : { copyLoss: NaN, firstLoss: NaN };
    const e = {
      step,
      train: tr.copyLoss,
      full: full.copyLoss,
      top1024: tp.copyLoss,
      fullFirst: full.firstLoss,
      top1024First: tp.firstLoss,
    };
    evals.push(e);
    const pair = (c: number, x: number) => `${c.toFixed(4)} (first copy ${x.toFixed(4)})`;
    console.log(
      `eval after ${step} updates: copy loss, training draw ${pair(tr.copyLoss, tr.firstLoss)} / whole vocab ${pair(full.copyLoss, full.firstLoss)} / ` +
        `top-1024 ${pair(tp.copyLoss, tp.firstLoss)}`,
    );
  };
  if (evalEvery > 0) evaluate(0);
  const t0 = performance.now();
  const ours = trainCopyTask(model, {
    ...o,
    onStep: (r) => {
      if (r.step % logEvery === 0) console.log(`ours step ${r.step}: loss ${r.loss.toFixed(4)} copy ${r.copyLoss.toFixed(4)}`);
      if (evalEvery > 0 && ((r.step + 1) % evalEvery === 0 || r.step + 1 === o.steps)) evaluate(r.step + 1);
    },
  });
  const oursS = (performance.now() - t0) / 1000;
  const saveDir = f.get('save');
  if (saveDir) saveModel(model, saveDir);
  model.dispose();

  const runTorch = (float64: boolean): TorchOut => {
    const args = [SCRIPT, '--init', join(out, 'init'), '--batches', join(out, 'batches.i32'), '--spec', join(out, 'spec.json')];
    const stdout = execFileSync(PYTHON, [...args, '--float64', float64 ? '1' : '0'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' },
      maxBuffer: 1 << 28,
    });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as TorchOut;
  };
  const t1 = performance.now();
  const torch = useTorch ? runTorch(false) : null;
  const torchS = (performance.now() - t1) / 1000;
  const torch64 = useTorch && num('float64', 0) ? runTorch(true) : null;

  const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(4));
  const lnV = Math.log(config.vocabSize);
  console.log(`\nln V = ${lnV.toFixed(4)}; ours ${oursS.toFixed(0)} s, torch ${torchS.toFixed(0)} s`);
  console.log('step  loss ours / torch' + (torch64 ? ' / torch64' : '') + '   copy loss ours / torch' + (torch64 ? ' / torch64' : ''));
  const shown = new Set([0, 1, 2, 3, 5, 10, 20, 50, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, o.steps - 1]);
  for (const s of [...shown].filter((s) => s < o.steps).sort((a, b) => a - b)) {
    const t = torch?.rows[s];
    const t64 = torch64?.rows[s];
    console.log(
      `${String(s).padStart(4)}  ${fmt(ours[s].loss)} / ${fmt(t?.loss)}${torch64 ? ` / ${fmt(t64?.loss)}` : ''}` +
        `   ${fmt(ours[s].copyLoss)} / ${fmt(t?.copyLoss)}${torch64 ? ` / ${fmt(t64?.copyLoss)}` : ''}`,
    );
  }
  const lnK = draw.subset ? Math.log(draw.subset) : lnV;
  const bounds = [...new Set([0.5 * lnV, 0.1 * lnV, 0.5 * lnK, 0.1 * lnK])];
  const collapse = Object.fromEntries(
    bounds.map((b) => [
      b.toFixed(3),
      {
        ours: collapseStep(
          ours.map((r) => r.copyLoss),
          b,
        ),
        torch: torch
          ? collapseStep(
              torch.rows.map((r) => r.copyLoss),
              b,
            )
          : null,
      },
    ]),
  );
  console.log(`steps until the second-copy loss stays below (nats): ${JSON.stringify(collapse)}`);
  if (torch) {
    let worst = 0;
    let worstName = '';
    for (const [name, g] of Object.entries(grad0)) {
      const rel = Math.abs(g - (torch.grad0[name] ?? NaN)) / Math.max(g, 1e-12);
      if (!(rel <= worst)) [worst, worstName] = [rel, name];
    }
    console.log(`step-0 gradient norms: worst relative difference ${worst.toExponential(2)} (${worstName})`);
  }
  writeFileSync(
    join(out, 'compare.json'),
    JSON.stringify({
      config,
      options: { ...o, draw: { subset: draw.subset, pool: poolIds?.length } },
      ours,
      torch,
      torch64,
      grad0,
      collapse,
      evals,
    }),
  );
  console.log(`wrote ${join(out, 'compare.json')}`);
}

main();
