// RunDir's rules one by one, each against what a plausible slip would break: checkpoints ordered by step number
// (step-10 after step-9), a save that fails mid-way leaving the checkpoints as they were, a damaged optimizer file
// named at open, the saved-config comparison (a field added, a near-prefix of a mutable one, arrays whole) and how
// an existing folder is told apart as an earlier run's.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from '@lwz/core';
import { RunDir } from './run-dir';
import { checkpointDir } from './checkpoint-files';
import { tinyModelAndOptimizer } from './testing/tiny-run';
import { errorOf } from '@lwz/core/testing';

const stateSchema = z.object({ cursor: z.number().int() }).strict();
const config = { name: 'run', lr: 0.01, outLen: 1, milestones: [100, 200] };

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'lwz-rundir-rules-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const setup = tinyModelAndOptimizer;

const open = (dir: string, cfg: unknown = config, keepLast = 2) => RunDir.open({ dir, config: cfg, stateSchema, keepLast });

/** A closed run directory holding one checkpoint (step 1, cursor 0), with this file's config. */
function runWithOneCheckpoint(): string {
  const dir = join(base, 'run');
  const { model, opt } = setup();
  const run = open(dir);
  run.saveCheckpoint({ step: 1, model, optimizer: opt, state: { cursor: 0 } });
  run.close();
  return dir;
}

describe('RunDir rules', () => {
  it('refuses keepLast 0 (every checkpoint would be deleted as it is written)', () => {
    expect(() => open(join(base, 'run'), config, 0)).toThrow('keepLast must be an integer >= 1, got 0');
  });

  it('orders checkpoints by step number (step-10 after step-9), and a copied step-N.bak is no checkpoint', () => {
    const dir = join(base, 'run');
    const run = open(dir);
    const { model, opt } = setup();
    for (const step of [8, 9, 10]) run.saveCheckpoint({ step, model, optimizer: opt, state: { cursor: step } });
    expect(run.checkpoints().map((c) => c.step)).toEqual([9, 10]); // keepLast 2 deleted 8, not 10
    cpSync(checkpointDir(dir, 10), join(dir, 'checkpoints', 'step-10.bak'), { recursive: true });
    run.close();
    const again = open(dir);
    expect(again.checkpoints().map((c) => c.step)).toEqual([9, 10]);
    expect([again.resume?.step, again.resume?.state]).toEqual([10, { cursor: 10 }]);
    // a checkpoint saved without extra tensors has none to give back
    expect(again.resume?.readTensors()).toEqual({});
  });

  it('leaves the checkpoints as they were when a save fails while writing its trainer state (a new step or the same one again)', () => {
    const dir = join(base, 'run');
    const run = open(dir);
    const { model, opt } = setup();
    run.saveCheckpoint({ step: 1, model, optimizer: opt, state: { cursor: 1 } });
    const unwritable = { cursor: 2n as unknown as number }; // JSON.stringify throws on a BigInt: the last write fails
    for (const step of [2, 1]) expect(() => run.saveCheckpoint({ step, model, optimizer: opt, state: unwritable })).toThrow(/BigInt/);
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['step-1']);
    run.close();
    expect(open(dir).resume?.state).toEqual({ cursor: 1 });
  });

  it('names a damaged optimizer file of the checkpoint it resumes from at open, with the fix', () => {
    const dir = runWithOneCheckpoint();
    truncateSync(join(checkpointDir(dir, 1), 'optimizer.safetensors'), 10);
    expect(() => open(dir)).toThrow(/optimizer\.safetensors: .*; delete this checkpoint directory to resume from the one before/);
  });

  it('refuses a field the saved config lacks, one that only starts like an always-mutable one, and shows arrays whole', () => {
    const dir = runWithOneCheckpoint();
    const refusal = (cfg: unknown) => errorOf(() => open(dir, cfg)).message;
    expect(refusal({ ...config, warmup: 5 })).toMatch(/different config .*: warmup: \(absent\) -> 5\./);
    expect(refusal({ ...config, outLen: 2 })).toMatch(/: outLen: 1 -> 2\./); // `out` may change; `outLen` is not `out`
    expect(refusal({ ...config, milestones: [100, 300] })).toMatch(/: milestones: \[100,200\] -> \[100,300\]\./);
    expect(open(dir).resume?.step).toBe(1);
  });

  it("opens a folder whose config.json shares most fields with this run's, refuses one sharing few", () => {
    const earlier = join(base, 'earlier');
    mkdirSync(earlier);
    // an older version of this run's config: 2 of its 3 fields are this config's
    writeFileSync(join(earlier, 'config.json'), JSON.stringify({ name: 'run', lr: 0.5, retired: true }));
    writeFileSync(join(earlier, 'metrics.jsonl'), '{"step": 1}\n');
    expect(open(earlier).resume).toBeNull();
    const other = join(base, 'other');
    mkdirSync(other);
    // another program's: 1 of 3
    writeFileSync(join(other, 'config.json'), JSON.stringify({ name: 'server', port: 8080, host: 'h' }));
    expect(() => open(other)).toThrow(/holds config\.json, but is not a run directory \(its config\.json is not one this trainer wrote\)/);
    // only the temp folder of a first save that died: a run's own leftovers
    const died = join(base, 'died');
    mkdirSync(join(died, 'checkpoints', '.step-1.tmp-1-1'), { recursive: true });
    expect(open(died).resume).toBeNull();
  });
});
