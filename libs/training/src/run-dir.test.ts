// RunDir end to end on a tiny model: a fresh start, checkpoints that round-trip model, optimizer, RNG
// streams, extra tensors and a trainer's own state; resume from the newest complete checkpoint; refusal of
// a different config; metrics cut back on resume; leftovers of interrupted saves ignored and removed.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, isUserError, z } from '@lwz/core';
import { tensor } from '@lwz/kernels';
import { initModel, loadModel, type Qwen2Model } from '@lwz/model';
import { tinyConfig } from '@lwz/model/testing';
import { AdamW } from '@lwz/optimizer';
import { RunDir } from './run-dir';
import { TRAINER_STATE_FILE, checkpointDir } from './checkpoint-files';
import { tinyModelAndOptimizer } from './testing/tiny-run';

// what a GRPO trainer might keep: where it is in the prompt set
const stateSchema = z.object({ promptCursor: z.number().int(), epoch: z.number().int() }).strict();
type State = z.output<typeof stateSchema>;

const setup = tinyModelAndOptimizer;

/** One fake update: random gradients written into the grad buffers AdamW holds, then an AdamW step. */
function update(model: Qwen2Model, opt: AdamW, rng: Rng): void {
  for (const p of model.trainableParams()) {
    const g = p.grad?.data as Float32Array; // host backends: the array itself
    for (let i = 0; i < g.length; i++) g[i] = rng.normal();
  }
  opt.step(1e-2);
}

const config = { name: 'run', lr: 0.01, model: { preset: 'tiny' } };
const open = (dir: string, over: Partial<typeof config> = {}, keepLast = 2) =>
  RunDir.open({ dir, config: { ...config, ...over }, stateSchema, keepLast });

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'lwz-rundir-'));
});

describe('RunDir', () => {
  it('starts fresh: config.json saved, stale metrics removed, no resume point', () => {
    const dir = join(base, 'run');
    mkdirSync(dir);
    // a run that stopped before its first checkpoint, started with another lr
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, lr: 0.5 }));
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step": 9}\n');
    const run = open(dir);
    expect(run.resume).toBeNull();
    expect(run.startStep).toBe(0);
    run.appendMetrics({ step: 0, 'eval/score': 1 }); // a baseline row before the first update
    expect(() => run.appendMetrics({ step: 0 })).toThrow(/steps must increase/);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(config);
    expect(run.readMetrics()).toEqual([{ step: 0, 'eval/score': 1 }]); // the stale row went
  });

  it("holds run.lock: a second live process is refused with its pid, a dead one's lock is taken over", () => {
    const dir = join(base, 'run');
    const run = open(dir);
    expect(readFileSync(join(dir, 'run.lock'), 'utf8')).toBe(`${process.pid}\n`);
    run.close();
    expect(existsSync(join(dir, 'run.lock'))).toBe(false);
    // another process holds it (this test's parent stands in for a second trainer)
    writeFileSync(join(dir, 'run.lock'), `${process.ppid}\n`);
    expect(() => open(dir)).toThrow(
      new RegExp(
        `${dir} is being written by another training run \\(pid ${process.ppid}, .*run\\.lock\\); wait for it to finish, or point the output at another directory`,
      ),
    );
    expect(readFileSync(join(dir, 'run.lock'), 'utf8')).toBe(`${process.ppid}\n`); // not taken
    // a trainer killed with SIGKILL left its lock: its pid is gone
    writeFileSync(join(dir, 'run.lock'), `${spawnSync(process.execPath, ['-e', '0']).pid}\n`);
    const again = open(dir);
    expect(readFileSync(join(dir, 'run.lock'), 'utf8')).toBe(`${process.pid}\n`);
    again.close();
  });

  it('refuses a model checkpoint or a file as the run directory, and leaves it untouched', () => {
    const ckpt = join(base, 'ckpt');
    mkdirSync(ckpt);
    const hf = JSON.stringify({ model_type: 'qwen2', hidden_size: 8 });
    writeFileSync(join(ckpt, 'config.json'), hf);
    expect(() => open(ckpt)).toThrow(`${ckpt} is a model checkpoint, not a run directory: the run would overwrite its config.json`);
    expect(readFileSync(join(ckpt, 'config.json'), 'utf8')).toBe(hf);
    const weightsOnly = join(base, 'weights');
    mkdirSync(weightsOnly);
    writeFileSync(join(weightsOnly, 'model.safetensors'), '');
    expect(() => open(weightsOnly)).toThrow(/is a model checkpoint, not a run directory/);
    const file = join(base, 'file.txt');
    writeFileSync(file, 'x');
    expect(() => open(file)).toThrow(`${file} is a file: give the run a directory`);
  });

  it("refuses an existing folder that is not a run's (the user's own files, another program's config.json), touching nothing", () => {
    const own = join(base, 'project');
    mkdirSync(own);
    const appConfig = JSON.stringify({ app: 'my settings', port: 8080 });
    writeFileSync(join(own, 'config.json'), appConfig);
    writeFileSync(join(own, 'report.html'), '<h1>mine</h1>');
    expect(() => open(own)).toThrow(
      `${own} already exists and holds config.json, report.html, but is not a run directory (its config.json is not one this trainer wrote)`,
    );
    expect(readFileSync(join(own, 'config.json'), 'utf8')).toBe(appConfig);
    const notes = join(base, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'metrics.jsonl'), '{"mine": 1}\n');
    writeFileSync(join(notes, 'a.txt'), 'a');
    expect(() => open(notes)).toThrow(
      /holds a\.txt, metrics\.jsonl, but is not a run directory \(it has no run's config\.json\).*new or empty directory \(--out\)/,
    );
    expect(readFileSync(join(notes, 'metrics.jsonl'), 'utf8')).toBe('{"mine": 1}\n');
    expect(existsSync(join(notes, 'config.json'))).toBe(false);
    const empty = join(base, 'empty');
    mkdirSync(empty);
    expect(open(empty).resume).toBeNull(); // an empty folder is a fine place for a run
  });

  it('resumes from the newest complete checkpoint with model, optimizer, RNG, tensors and state intact', () => {
    const dir = join(base, 'run');
    const run = open(dir);
    const { model, opt } = setup();
    const data = new Rng(5);
    const sampling = new Rng(7);
    for (let step = 1; step <= 3; step++) {
      update(model, opt, data);
      sampling.next();
      run.appendMetrics({ step, 'train/loss': 1 / step });
      const state: State = { promptCursor: step * 4, epoch: 0 };
      run.saveCheckpoint({ step, model, optimizer: opt, state, rngs: { sampling }, tensors: { 'lora.A': Float32Array.of(step, 2) } });
    }
    expect(run.checkpoints().map((c) => c.step)).toEqual([2, 3]); // keepLast 2

    const again = open(dir);
    const r = again.resume;
    if (!r) throw new Error('expected a resume point');
    expect(r.step).toBe(3);
    expect(again.startStep).toBe(3);
    expect(r.dir).toBe(checkpointDir(dir, 3));
    expect(r.state).toEqual({ promptCursor: 12, epoch: 0 });
    expect(r.rng('sampling').next()).toBe(sampling.next()); // the stream continues where it stopped
    expect(() => r.rng('nope')).toThrow(/no RNG stream "nope" \(saved: sampling\)/);
    expect(r.readTensors()).toEqual({ 'lora.A': Float32Array.of(3, 2) });
    const restored = setup(99);
    r.restoreOptimizer(restored.opt);
    const [a, b] = [opt.state(), restored.opt.state()];
    expect(b.meta).toEqual(a.meta);
    for (const [name, t] of Object.entries(a.tensors)) expect(b.tensors[name]).toEqual(t);
    const loaded = loadModel(r.dir);
    for (const p of model.trainableParams()) expect(loaded.store.get(p.name).value.toHost()).toEqual(p.value.toHost());
    expect(again.readMetrics().map((m) => m.step)).toEqual([1, 2, 3]);
  });

  it('refuses to resume under a different config, naming each changed field, and leaves the run untouched', () => {
    const dir = join(base, 'run');
    const run = open(dir);
    const { model, opt } = setup();
    run.appendMetrics({ step: 1, 'train/loss': 2 });
    run.saveCheckpoint({ step: 1, model, optimizer: opt, state: { promptCursor: 0, epoch: 0 } });
    const metrics = readFileSync(run.metricsPath, 'utf8');
    let err: unknown;
    try {
      open(dir, { lr: 0.005, model: { preset: 'bench-5m' } });
    } catch (e) {
      err = e;
    }
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(/different config .*lr: 0\.01 -> 0\.005; model\.preset: "tiny" -> "bench-5m"/);
    expect(readFileSync(run.metricsPath, 'utf8')).toBe(metrics);
    expect(JSON.parse(readFileSync(run.configPath, 'utf8'))).toEqual(config);
    expect(open(dir).resume?.step).toBe(1); // the same config resumes
    expect((err as Error).message).toMatch(/give the same values again .*use another output directory \(--out\)/);
  });

  it('refuses to resume checkpoints whose config.json is gone (the config they were trained with cannot be checked)', () => {
    const dir = join(base, 'run');
    const { model, opt } = setup();
    const run = open(dir);
    run.saveCheckpoint({ step: 1, model, optimizer: opt, state: { promptCursor: 0, epoch: 0 } });
    run.close();
    rmSync(run.configPath);
    expect(() => open(dir, { lr: 0.005 })).toThrow(/holds checkpoints but no config\.json .*put the run's config\.json back/);
    expect(existsSync(run.configPath)).toBe(false); // nothing written: the lr 0.005 is not recorded as the run's
  });

  it('resumes where only the fields it is told may change differ (and out, name: a moved run resumes)', () => {
    const dir = join(base, 'run');
    const { model, opt } = setup();
    open(dir).saveCheckpoint({ step: 1, model, optimizer: opt, state: { promptCursor: 0, epoch: 0 } });
    const withKeep = (keep: number) => ({ ...config, keepLast: keep, out: `${dir}/`, name: 'renamed', runtime: { recompute: keep > 2 } });
    const moved = RunDir.open({ dir, config: withKeep(5), stateSchema, keepLast: 5, mutable: ['keepLast', 'runtime'] });
    expect(moved.resume?.step).toBe(1);
    expect(JSON.parse(readFileSync(moved.configPath, 'utf8'))).toEqual(withKeep(5)); // the new values are the saved ones now
    // a field outside the list is still refused
    expect(() => RunDir.open({ dir, config: { ...withKeep(5), lr: 1 }, stateSchema, keepLast: 5, mutable: ['keepLast'] })).toThrow(
      /lr: 0\.01 -> 1/,
    );
  });

  it('names a damaged model or optimizer file of the checkpoint it resumes from, with the fix', () => {
    const dir = join(base, 'run');
    const { model, opt } = setup();
    open(dir).saveCheckpoint({ step: 1, model, optimizer: opt, state: { promptCursor: 0, epoch: 0 } });
    const weights = join(checkpointDir(dir, 1), 'model.safetensors');
    truncateSync(weights, 100);
    expect(() => open(dir)).toThrow(/model\.safetensors: .*truncated.*; delete this checkpoint directory to resume from the one before/);
    expect(existsSync(join(dir, 'run.lock'))).toBe(false); // the refusal released the lock
  });

  it('without a complete checkpoint a different config starts over', () => {
    const dir = join(base, 'run');
    open(dir).appendMetrics({ step: 1 });
    const run = open(dir, { lr: 1 });
    expect(run.resume).toBeNull();
    expect(run.readMetrics()).toEqual([]);
  });

  it('cuts metrics back to the checkpoint, drops a torn last line, and rejects a bad line elsewhere', () => {
    const dir = join(base, 'run');
    const run = open(dir);
    const { model, opt } = setup();
    for (let step = 1; step <= 5; step++) {
      run.appendMetrics({ step, 'train/loss': step, note: 'x' });
      if (step === 3) run.saveCheckpoint({ step, model, optimizer: opt, state: { promptCursor: 0, epoch: 0 } });
    }
    appendFileSync(run.metricsPath, '{"step": 6, "train/lo');
    const resumed = open(dir);
    expect(resumed.readMetrics().map((m) => m.step)).toEqual([1, 2, 3]);
    expect(readFileSync(resumed.metricsPath, 'utf8').endsWith('"note":"x"}\n')).toBe(true);
    expect(() => resumed.appendMetrics({ step: 3 })).toThrow(/steps must increase/);
    resumed.appendMetrics({ step: 4 });
    writeFileSync(resumed.metricsPath, '{"step": 1}\n{"step": 2, oops}\n{"step": 3}\n');
    expect(() => open(dir)).toThrow(/metrics\.jsonl:2: invalid JSON/);
    writeFileSync(resumed.metricsPath, '{"step": 1}\n{"loss": 2}\n');
    expect(() => open(dir)).toThrow(/metrics\.jsonl:2: expected an object with an integer "step"/);
  });

  it('ignores and removes what interrupted saves left: temp directories and step dirs without a trainer state', () => {
    const dir = join(base, 'run');
    const run = open(dir);
    const { model, opt } = setup();
    run.saveCheckpoint({ step: 4, model, optimizer: opt, state: { promptCursor: 1, epoch: 0 } });
    const half = checkpointDir(dir, 8);
    mkdirSync(half, { recursive: true });
    writeFileSync(join(half, 'model.safetensors'), 'partial');
    const temp = join(dir, 'checkpoints', '.step-12.tmp-123-1');
    mkdirSync(temp);
    const resumed = open(dir);
    expect(resumed.resume?.step).toBe(4);
    expect(existsSync(half)).toBe(false);
    expect(existsSync(temp)).toBe(false);
  });

  it('names the file and the field of an invalid trainer state', () => {
    const dir = join(base, 'run');
    const { model, opt } = setup();
    open(dir).saveCheckpoint({ step: 2, model, optimizer: opt, state: { promptCursor: 1, epoch: 0 } });
    const file = join(checkpointDir(dir, 2), TRAINER_STATE_FILE);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...saved, state: { promptCursor: 'x', epoch: 0 } }));
    expect(() => open(dir)).toThrow(/trainer_state\.json: invalid trainer state \(state\.promptCursor: /);
    writeFileSync(file, JSON.stringify({ ...saved, format: 'lwz-trainer-state/9' }));
    expect(() => open(dir)).toThrow(/format "lwz-trainer-state\/9", this version reads "lwz-trainer-state\/2"/);
    writeFileSync(file, JSON.stringify({ ...saved, step: 3 }));
    expect(() => open(dir)).toThrow(/invalid trainer state \(step: /);
  });

  it('reads the /1 trainer state pretraining wrote before (the trainer fields beside the step) as its state', () => {
    const dir = join(base, 'run');
    const { model, opt } = setup();
    open(dir).saveCheckpoint({ step: 2, model, optimizer: opt, state: { promptCursor: 5, epoch: 1 } });
    const file = join(checkpointDir(dir, 2), TRAINER_STATE_FILE);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ format: 'lwz-trainer-state/1', step: 2, promptCursor: 5, epoch: 1, optimizer: saved.optimizer }));
    const r = open(dir).resume;
    expect(r?.state).toEqual({ promptCursor: 5, epoch: 1 });
    expect(() => r?.rng('sampling')).toThrow(/saved: none/);
    const restored = setup(3);
    r?.restoreOptimizer(restored.opt);
    expect(restored.opt.state().meta).toEqual(opt.state().meta);
  });

  it('refuses an optimizer whose parameters differ, naming the file', () => {
    const dir = join(base, 'run');
    const { model, opt } = setup();
    open(dir).saveCheckpoint({ step: 1, model, optimizer: opt, state: { promptCursor: 0, epoch: 0 } });
    const other = initModel(tinyConfig({ hiddenSize: 8, headDim: 2 }), new Rng(1));
    const params = other
      .trainableParams()
      .map((p) => ({ name: p.name, param: p.value, grad: tensor(new Float32Array(p.value.size), p.shape) }));
    expect(() => open(dir).resume?.restoreOptimizer(new AdamW(params))).toThrow(/optimizer\.safetensors: cannot restore the optimizer/);
  });
});
