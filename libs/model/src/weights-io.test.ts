// Checkpoint weight layouts as Hugging Face writes them: which file names are weights, the shard index and its
// errors, and where writeWeights cuts shards (sizes worked out by hand: 10 f32 values are 40 bytes, bf16 20).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors } from './safetensors';
import { INDEX_FILE, WEIGHTS_FILE, hasWeights, isWeightsFile, openWeights, writeWeights } from './weights-io';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-wio-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const five = () =>
  [0, 1, 2, 3, 4].map((i) => ({ name: `t${i}`, shape: [10], data: Float32Array.from({ length: 10 }, (_, j) => i * 10 + j) }));
const shard = (i: number, n: number) => `model-0000${i}-of-0000${n}.safetensors`;
const index = () => JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8'));

describe('weights-io', () => {
  it('isWeightsFile: the single file, the index and shard names exactly', () => {
    for (const n of [WEIGHTS_FILE, INDEX_FILE, 'model-00001-of-00002.safetensors']) expect(isWeightsFile(n)).toBe(true);
    for (const n of ['config.json', 'model-00001-of-00002.safetensors.tmp', 'old-model-00001-of-00002.safetensors', 'notes.txt']) {
      expect(isWeightsFile(n)).toBe(false);
    }
  });

  it('hasWeights: a single file or a shard index', () => {
    expect(hasWeights(dir)).toBe(false);
    writeFileSync(join(dir, INDEX_FILE), '{}');
    expect(hasWeights(dir)).toBe(true);
    rmSync(join(dir, INDEX_FILE));
    writeFileSync(join(dir, WEIGHTS_FILE), '');
    expect(hasWeights(dir)).toBe(true);
  });

  it('cuts a shard when the next tensor would pass maxShardBytes, naming shards model-0000i-of-0000n (1-based)', () => {
    writeWeights(dir, five(), { maxShardBytes: 80 }); // 40 + 40 = 80 fits; a third would not
    expect(index().weight_map).toEqual({ t0: shard(1, 3), t1: shard(1, 3), t2: shard(2, 3), t3: shard(2, 3), t4: shard(3, 3) });
    expect(readdirSync(dir).sort()).toEqual([INDEX_FILE, shard(1, 3), shard(2, 3), shard(3, 3)].sort());
    const out = new Float32Array(10);
    openWeights(dir).readInto('t4', out);
    expect(Array.from(out)).toEqual(Array.from(five()[4].data));
  });

  it('writes one file when the total equals maxShardBytes, and a tensor larger than the limit alone (no empty shard)', () => {
    writeWeights(dir, five(), { maxShardBytes: 200 });
    expect(readdirSync(dir)).toEqual([WEIGHTS_FILE]);
    rmSync(join(dir, WEIGHTS_FILE));
    writeWeights(dir, five().slice(0, 2), { maxShardBytes: 30 });
    expect(index().weight_map).toEqual({ t0: shard(1, 2), t1: shard(2, 2) });
    expect(readdirSync(dir).sort()).toEqual([INDEX_FILE, shard(1, 2), shard(2, 2)].sort());
  });

  it('sizes BF16 shards at 2 bytes a value', () => {
    writeWeights(dir, five(), { dtype: 'BF16', maxShardBytes: 40 });
    expect(index()).toEqual({
      metadata: { total_size: 100 },
      weight_map: { t0: shard(1, 3), t1: shard(1, 3), t2: shard(2, 3), t3: shard(2, 3), t4: shard(3, 3) },
    });
  });

  it('refuses a shard index that is not a map of file names, or names a tensor its shard lacks', () => {
    const f = join(dir, 'model-00001-of-00001.safetensors');
    writeSafetensors(f, [{ name: 't', shape: [1], data: Float32Array.of(1) }]);
    const put = (weight_map: unknown) => writeFileSync(join(dir, INDEX_FILE), JSON.stringify({ metadata: {}, weight_map }));
    put(['model-00001-of-00001.safetensors']);
    expect(() => openWeights(dir)).toThrow(/field "weight_map" is missing or not an object/);
    put('model-00001-of-00001.safetensors');
    expect(() => openWeights(dir)).toThrow(/field "weight_map" is missing or not an object/);
    put({ t: '../model-00001-of-00001.safetensors' });
    expect(() => openWeights(dir)).toThrow(/weight_map\["t"\] must be a file name in the same directory/);
    put({ t: 'model-00001-of-00001.safetensors', u: 'model-00001-of-00001.safetensors' });
    expect(() => openWeights(dir)).toThrow(/maps "u" to model-00001-of-00001\.safetensors, but that shard has no such tensor/);
    put({ t: 'model-00001-of-00001.safetensors' });
    expect(openWeights(dir).names()).toEqual(['t']);
    expect(existsSync(join(dir, WEIGHTS_FILE))).toBe(false);
  });
});
