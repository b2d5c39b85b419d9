// Test fixtures for pretraining: a small corpus with learnable structure, a BPE trained on it, packed
// shards, and a config for a one-layer model. Used by the pretrain tests only.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenizerFileHash, writeShards } from '@lwz/data';
import { Tokenizer, toTokenizerJson, trainBpe } from '@lwz/tokenizer';

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

export interface PretrainFixture {
  dataDir: string;
  tokDir: string;
}

/** A trained 320-token BPE and packed train/val shards in a temp dir. */
export function pretrainFixture(): PretrainFixture {
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
    tokenizerHash: tokenizerFileHash(join(tokDir, 'tokenizer.json')),
    splits: { train: docs.slice(0, 10).map(pack), val: docs.slice(10).map(pack) },
  });
  return { dataDir, tokDir };
}

/** A raw config (JSON-able) for a one-layer model on the fixture, on the default device (cpu when built). */
export function smallConfig(f: PretrainFixture, out: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'test',
    out,
    data: f.dataDir,
    tokenizer: f.tokDir,
    device: 'auto',
    model: { preset: 'tiny', overrides: { numLayers: 1, hiddenSize: 32, intermediateSize: 64, numHeads: 2, numKvHeads: 1, headDim: 16 } },
    batchSize: 4,
    seqLen: 32,
    lr: 1e-2,
    warmupSteps: 2,
    evalBatches: 2,
    samples: { prompts: ['the captain'], maxNewTokens: 8, temperature: 0 },
    ...over,
  };
}
