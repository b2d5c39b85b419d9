import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonl } from '@lwz/core';
import { writeShards } from '@lwz/data';
import { Tokenizer, toTokenizerJson, trainBpe } from '@lwz/tokenizer';
import { pretrainConfigSchema, type PretrainConfig } from './config';
import { listCheckpoints } from './checkpoints';
import { runPretrain } from './run';
import { unigramEntropy } from './unigram';

// A small corpus with learnable structure: sentences built from a fixed pattern.
const subjects = ['the captain', 'the whale', 'the crew', 'the sea', 'the ship'];
const verbs = ['watched', 'followed', 'feared', 'found', 'crossed'];
const objects = ['the harbour', 'the storm', 'the island', 'the deep water', 'the morning light'];
function makeDoc(seed: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 40; i++) {
    const k = (seed * 7 + i * 3) % 25;
    parts.push(`${subjects[k % 5]} ${verbs[(k + i) % 5]} ${objects[Math.floor(k / 5)]}.`);
  }
  return parts.join(' ');
}

function fixture(): { dataDir: string; tokDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'lwz-pretrain-'));
  const docs = Array.from({ length: 12 }, (_, i) => makeDoc(i));
  const trained = trainBpe(docs, { vocabSize: 320 });
  const tokDir = join(root, 'tokenizer');
  mkdirSync(tokDir);
  writeFileSync(join(tokDir, 'tokenizer.json'), JSON.stringify(toTokenizerJson(trained)));
  const tok = Tokenizer.fromFile(join(tokDir, 'tokenizer.json'));
  const eot = tok.tokenToId('<|endoftext|>') ?? -1;
  const pack = (d: string, i: number) => ({ id: `d${i}`, title: `doc ${i}`, ids: tok.encode(d, { addSpecialTokens: false }) });
  const dataDir = join(root, 'shards');
  writeShards(dataDir, {
    eotId: eot,
    vocabSize: tok.vocabSize,
    tokenizerHash: 'test',
    splits: { train: docs.slice(0, 10).map(pack), val: docs.slice(10).map(pack) },
  });
  return { dataDir, tokDir };
}

function config(f: { dataDir: string; tokDir: string }, out: string, over: Partial<PretrainConfig> = {}): PretrainConfig {
  return pretrainConfigSchema.parse({
    name: 'test',
    out,
    data: f.dataDir,
    tokenizer: f.tokDir,
    device: 'ref',
    model: { preset: 'tiny', overrides: { numLayers: 1, hiddenSize: 32, intermediateSize: 64, numHeads: 2, numKvHeads: 1, headDim: 16 } },
    batchSize: 4,
    seqLen: 32,
    lr: 1e-2,
    warmupSteps: 2,
    evalBatches: 2,
    samples: { prompts: ['the captain'], maxNewTokens: 8, temperature: 0 },
    ...over,
  });
}

const quiet = { log: () => undefined, progress: false };

describe('pretraining', () => {
  const f = fixture();

  it('learns: validation loss ends far below the unigram entropy, with metrics, checkpoints, report and samples', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lwz-run-')), 'run');
    const r = runPretrain(config(f, out, { steps: 60, evalEvery: 20, checkpointEvery: 30 }), quiet);
    const rows = readJsonl<Record<string, number>>(join(out, 'metrics.jsonl')).map((x) => x.value);
    expect(rows.map((x) => x.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const val = rows.filter((x) => 'val/loss' in x).map((x) => x['val/loss']);
    expect(val).toHaveLength(3);
    expect(r.valLoss).toBe(val[2]);
    expect(r.valLoss).toBeLessThan(0.6 * r.unigramEntropy);
    expect(rows[0]['train/loss']).toBeGreaterThan(Math.log(320) - 0.5); // starts near uniform
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([30, 60]);
    for (const file of ['config.json', 'model.safetensors', 'generation_config.json', 'tokenizer.json', 'optimizer.safetensors', 'trainer_state.json']) {
      expect(existsSync(join(out, 'checkpoints', 'step-60', file))).toBe(true);
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('final validation loss');
    expect(r.samples[0].text.length).toBeGreaterThan(0);
  });

  it('resumes after an interruption to exactly the weights of an uninterrupted run', () => {
    const base = mkdtempSync(join(tmpdir(), 'lwz-resume-'));
    const over = { steps: 7, evalEvery: 3, checkpointEvery: 2, keepLast: 5 };
    runPretrain(config(f, join(base, 'straight'), over), quiet);
    const cut = config(f, join(base, 'cut'), over);
    runPretrain(cut, { ...quiet, stopAfter: 5 }); // dies after step 5; last checkpoint is step 4
    expect(listCheckpoints(cut.out).at(-1)?.step).toBe(4);
    const resumed = runPretrain(cut, quiet);
    expect(resumed.resumedFrom).toBe(4);
    const weights = (run: string) => readFileSync(join(base, run, 'checkpoints', 'step-7', 'model.safetensors'));
    expect(weights('cut').equals(weights('straight'))).toBe(true);
    const steps = readJsonl<{ step: number }>(join(cut.out, 'metrics.jsonl')).map((x) => x.value.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('refuses to resume a run directory with a different config, and names missing shards', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lwz-cfg-')), 'run');
    runPretrain(config(f, out, { steps: 2, checkpointEvery: 1, evalEvery: 2 }), quiet);
    expect(() => runPretrain(config(f, out, { steps: 2, checkpointEvery: 1, evalEvery: 2, lr: 5e-3 }), quiet)).toThrow(/different config/);
    expect(() => runPretrain(config(f, join(out, 'x'), { data: join(out, 'nope') }), quiet)).toThrow(/nope/);
  });

  it('computes the unigram entropy', () => {
    expect(unigramEntropy(Int32Array.from([1, 1, 2, 2]))).toBeCloseTo(Math.log(2), 12);
    expect(unigramEntropy(Int32Array.from([5, 5, 5]))).toBe(0);
  });
});
