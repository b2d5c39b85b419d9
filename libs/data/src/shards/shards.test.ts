import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTokenizerHash, readShardIndex, readShardTokens, writeShards } from './format';
import { WindowSampler, sequentialBatches, spreadBatches } from './batches';

const tmp = () => mkdtempSync(join(tmpdir(), 'lwz-shards-'));
const docs = [
  { id: 'a', title: 'A', ids: [1, 2, 3] },
  { id: 'b', title: 'B', ids: [4, 5] },
];

describe('packed shards', () => {
  it('writes eot-separated little-endian uint16 ids and an index of document boundaries', () => {
    const dir = join(tmp(), 'shards');
    writeShards(dir, { eotId: 0, vocabSize: 4096, tokenizerHash: 'h1', splits: { train: docs, val: [{ id: 'c', title: 'C', ids: [7] }] } });
    expect(readdirSync(dir).sort()).toEqual(['index.json', 'train.bin', 'val.bin']);
    const bytes = readFileSync(join(dir, 'train.bin'));
    expect([...bytes]).toEqual([1, 0, 2, 0, 3, 0, 0, 0, 4, 0, 5, 0, 0, 0]);
    const index = readShardIndex(dir);
    expect(index.dtype).toBe('uint16');
    expect(index.splits.train.docs).toEqual([
      { id: 'a', title: 'A', start: 0, length: 3 },
      { id: 'b', title: 'B', start: 4, length: 2 },
    ]);
    expect([...readShardTokens(dir, 'val')]).toEqual([7, 0]);
    expect(() => checkTokenizerHash(dir, index, 'h1')).not.toThrow();
    expect(() => checkTokenizerHash(dir, index, 'h2')).toThrow(/tokenized with tokenizer h1, not this one \(h2\)/);
  });

  it('uses int32 above 65536 ids, and refuses out-of-vocabulary ids without writing anything', () => {
    const dir = join(tmp(), 'shards');
    writeShards(dir, { eotId: 70000, vocabSize: 70001, tokenizerHash: 'h', splits: { train: [{ id: 'x', title: '', ids: [66000] }] } });
    expect([...readFileSync(join(dir, 'train.bin'))]).toEqual([0xd0, 0x01, 0x01, 0x00, 0x70, 0x11, 0x01, 0x00]);
    expect([...readShardTokens(dir, 'train')]).toEqual([66000, 70000]);
    const fresh = join(tmp(), 'shards');
    expect(() =>
      writeShards(fresh, { eotId: 0, vocabSize: 5, tokenizerHash: 'h', splits: { train: [{ id: 'x', title: '', ids: [5] }] } }),
    ).toThrow(/document x: token id 5 at 0 is outside \[0, 5\)/);
    expect(existsSync(fresh)).toBe(false);
  });

  it('keeps uint16 up to a vocabulary of exactly 65536, and refuses a negative id or an eot outside the vocabulary', () => {
    const dir = join(tmp(), 'shards');
    // ids 0..65535 fit two bytes: the documented rule is uint16 for vocab <= 65536
    expect(
      writeShards(dir, { eotId: 0, vocabSize: 65536, tokenizerHash: 'h', splits: { train: [{ id: 'x', title: '', ids: [65535] }] } }).dtype,
    ).toBe('uint16');
    expect([...readFileSync(join(dir, 'train.bin'))]).toEqual([0xff, 0xff, 0, 0]);
    const fresh = join(tmp(), 'shards');
    expect(() =>
      writeShards(fresh, { eotId: 0, vocabSize: 70001, tokenizerHash: 'h', splits: { train: [{ id: 'x', title: '', ids: [-1] }] } }),
    ).toThrow(/document x: token id -1 at 0 is outside \[0, 70001\)/);
    expect(() => writeShards(fresh, { eotId: 5, vocabSize: 5, tokenizerHash: 'h', splits: { train: docs } })).toThrow(
      'eot id 5 is outside the vocabulary [0, 5)',
    );
    expect(existsSync(fresh)).toBe(false);
  });

  it('refuses a shard file longer than its index says, and an index of another format', () => {
    const dir = join(tmp(), 'shards');
    writeShards(dir, { eotId: 0, vocabSize: 10, tokenizerHash: 'h', splits: { train: docs } });
    // 7 ids = 14 bytes; a file from another build with one id more is not read as this one
    writeFileSync(join(dir, 'train.bin'), Buffer.alloc(16));
    expect(() => readShardTokens(dir, 'train')).toThrow(/16 bytes, the index says 7 uint16 ids/);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ ...index, format: 'lwz-shards/2' }));
    expect(() => readShardIndex(dir)).toThrow(/field "format" is "lwz-shards\/2", expected "lwz-shards\/1"/);
  });

  it('detects a truncated shard file', () => {
    const dir = join(tmp(), 'shards');
    writeShards(dir, { eotId: 0, vocabSize: 10, tokenizerHash: 'h', splits: { train: docs } });
    writeFileSync(join(dir, 'train.bin'), Buffer.alloc(4));
    expect(() => readShardTokens(dir, 'train')).toThrow(/4 bytes, the index says 7 uint16 ids/);
    expect(() => readShardTokens(dir, 'test')).toThrow(/no split "test"/);
  });
});

describe('WindowSampler', () => {
  const N = 1001;
  const tokens = Int32Array.from({ length: N }, (_, i) => i); // ids = positions, so windows are checkable

  it('gives (B, T+1) windows of consecutive tokens starting at multiples of T', () => {
    const s = new WindowSampler(tokens, 10, 5);
    expect(s.windows).toBe(100);
    const b = s.batch(3, 4);
    expect(b.tokens.length).toBe(4 * 11);
    for (let r = 0; r < 4; r++) {
      const row = [...b.tokens.subarray(r * 11, r * 11 + 11)];
      expect(row).toEqual(Array.from({ length: 11 }, (_, i) => b.starts[r] + i));
      expect(b.starts[r] % 10).toBe(0);
    }
  });

  it('visits every window exactly once per epoch, and reshuffles the next epoch', () => {
    const s = new WindowSampler(tokens, 10, 5);
    const epoch0 = Array.from({ length: 25 }, (_, step) => s.batch(step, 4).starts).flat();
    expect([...epoch0].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i * 10));
    const epoch1 = Array.from({ length: 25 }, (_, step) => s.batch(25 + step, 4).starts).flat();
    expect(epoch1).not.toEqual(epoch0);
    expect(s.batch(25, 4).epoch).toBe(1);
  });

  it('is a pure function of (seed, step): a fresh sampler resumes exactly', () => {
    const a = new WindowSampler(tokens, 10, 5);
    const seen = Array.from({ length: 40 }, (_, step) => a.batch(step, 3).tokens);
    const resumed = new WindowSampler(tokens, 10, 5);
    expect(resumed.batch(37, 3).tokens).toEqual(seen[37]);
    expect(new WindowSampler(tokens, 10, 6).batch(37, 3).starts).not.toEqual(resumed.batch(37, 3).starts);
    expect(() => new WindowSampler(tokens.subarray(0, 5), 10, 0)).toThrow(/fewer than one window/);
  });

  it('uses only windows whose T + 1 tokens lie inside the split (N a multiple of T: the last T tokens start none)', () => {
    const exact = Int32Array.from({ length: 100 }, (_, i) => i);
    const s = new WindowSampler(exact, 10, 1);
    expect(s.windows).toBe(9); // floor((100 - 1) / 10): a window at 90 would need token 100
    const b = s.batch(0, 9);
    expect([...b.starts].sort((x, y) => x - y)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
    for (let r = 0; r < 9; r++) {
      expect([...b.tokens.subarray(r * 11, r * 11 + 11)]).toEqual(Array.from({ length: 11 }, (_, i) => b.starts[r] + i));
    }
    expect(() => s.batch(-1, 2)).toThrow('step must be a non-negative integer, got -1');
    expect(() => s.batch(0, 0)).toThrow('batch size B must be a positive integer, got 0');
  });

  it('shuffles uniformly: every one of the 3! orders of 3 windows comes up about as often over 600 seeds', () => {
    const three = Int32Array.from({ length: 31 }, (_, i) => i); // windows at 0, 10, 20
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 600; seed++) {
      const order = new WindowSampler(three, 10, seed).batch(0, 3).starts.join(',');
      counts.set(order, (counts.get(order) ?? 0) + 1);
    }
    // a Fisher-Yates shuffle: each order has p = 1/6, so 100 expected, sd ~9.1; 60..140 is over 4 sd either side
    // (a shuffle that draws j < i, or skips the last slot, makes only 2 of the 6 orders)
    expect(counts.size).toBe(6);
    for (const n of counts.values()) {
      expect(n).toBeGreaterThanOrEqual(60);
      expect(n).toBeLessThanOrEqual(140);
    }
  });

  it('evaluates every window once, in order', () => {
    const batches = [...sequentialBatches(tokens, 3, 100)];
    expect(batches.map((b) => b.B)).toEqual([3, 3, 3, 1]);
    expect(batches.flatMap((b) => b.starts)).toEqual(Array.from({ length: 10 }, (_, i) => i * 100));
    expect(batches[3].tokens[100]).toBe(1000);
  });

  it('spreads a budget of evaluation batches evenly over the split, or takes them all', () => {
    // 10 windows in 4 batches of 3 (the last of 1): 2 of them are the 1st and the 3rd, not the first two
    expect([...spreadBatches(tokens, 3, 100, 2)].map((b) => b.starts)).toEqual([
      [0, 100, 200],
      [600, 700, 800],
    ]);
    expect([...spreadBatches(tokens, 3, 100, 3)].map((b) => b.starts[0])).toEqual([0, 300, 600]);
    for (const count of [4, 9]) expect([...spreadBatches(tokens, 3, 100, count)]).toEqual([...sequentialBatches(tokens, 3, 100)]);
    // the whole split: 1,000 windows, 8 batches of 4 reach its last tenth
    const long = Int32Array.from({ length: 100_001 }, (_, i) => i);
    const starts = [...spreadBatches(long, 4, 100, 8)].map((b) => b.starts[0] / 100);
    expect(starts).toEqual([0, 124, 248, 372, 500, 624, 748, 872]);
  });
});
