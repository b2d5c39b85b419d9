// safetensors reading and writing: exact F32 round trips, hand-built F16/BF16 files with known bit patterns,
// sharded checkpoints, and clear errors for truncated or corrupted files.
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEntryInto, readSafetensorsHeader, writeSafetensors } from './safetensors';
import { INDEX_FILE, openWeights, writeWeights } from './weights-io';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-st-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Build a safetensors file by hand: header JSON then raw bytes. */
function handMade(path: string, header: object, data: Uint8Array): void {
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(path, Buffer.concat([len, h, data]));
}

function readAll(path: string, name: string): Float32Array {
  const e = readSafetensorsHeader(path).entries.get(name);
  if (!e) throw new Error(`no tensor ${name}`);
  const out = new Float32Array(e.shape.reduce((a, b) => a * b, 1));
  readEntryInto(path, e, out);
  return out;
}

describe('safetensors', () => {
  it('round-trips F32 exactly, with an 8-byte aligned data section', () => {
    const a = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 1e3);
    const b = Float32Array.from([1.5, -0, Number.MIN_VALUE, 3.4e38]);
    const path = join(dir, 'm.safetensors');
    writeSafetensors(path, [
      { name: 'a', shape: [3, 4], data: a },
      { name: 'b', shape: [4], data: b },
    ]);
    const h = readSafetensorsHeader(path);
    expect(h.entries.get('a')).toMatchObject({ dtype: 'F32', shape: [3, 4] });
    expect((h.entries.get('a')?.offset ?? 1) % 8).toBe(0);
    expect(Array.from(readAll(path, 'a'))).toEqual(Array.from(a));
    expect(Array.from(readAll(path, 'b'))).toEqual(Array.from(b));
  });

  it('reads F16 and BF16 bit patterns to the values IEEE defines', () => {
    // F16: 1, -2, 0.333251953125 (0x3555), 2^-24 (smallest subnormal), +inf
    const f16 = Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00]);
    // BF16: 1, -2, 0.333984375 (0x3eab), 1e38-ish (0x7e96 = 0x7e960000 as f32)
    const bf16 = Uint16Array.from([0x3f80, 0xc000, 0x3eab, 0x7e96]);
    const data = new Uint8Array([...new Uint8Array(f16.buffer), ...new Uint8Array(bf16.buffer)]);
    const path = join(dir, 'h.safetensors');
    handMade(
      path,
      { h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] }, bf: { dtype: 'BF16', shape: [2, 2], data_offsets: [10, 18] } },
      data,
    );
    expect(Array.from(readAll(path, 'h'))).toEqual([1, -2, 0.333251953125, 2 ** -24, Infinity]);
    const f32bits = new Float32Array(new Uint32Array([0x7e960000]).buffer)[0];
    expect(Array.from(readAll(path, 'bf'))).toEqual([1, -2, 0.333984375, f32bits]);
  });

  it('writes BF16 rounded to nearest (relative error <= 2^-8, half a bf16 ulp)', () => {
    const a = Float32Array.from({ length: 1000 }, (_, i) => Math.exp(Math.sin(i) * 10) * (i % 2 ? -1 : 1));
    const path = join(dir, 'b.safetensors');
    writeSafetensors(path, [{ name: 'a', shape: [1000], data: a }], { dtype: 'BF16' });
    const back = readAll(path, 'a');
    for (let i = 0; i < a.length; i++) expect(Math.abs(back[i] - a[i])).toBeLessThanOrEqual(Math.abs(a[i]) * 2 ** -8);
    expect(readSafetensorsHeader(path).entries.get('a')?.dtype).toBe('BF16');
  });

  it('rejects truncated files', () => {
    const path = join(dir, 't.safetensors');
    writeSafetensors(path, [{ name: 'a', shape: [100], data: new Float32Array(100) }]);
    truncateSync(path, readFileSync(path).length - 4);
    expect(() => readSafetensorsHeader(path)).toThrow(/truncated.*"a"/);
    truncateSync(path, 20);
    expect(() => readSafetensorsHeader(path)).toThrow(/truncated or not safetensors/);
    truncateSync(path, 3);
    expect(() => readSafetensorsHeader(path)).toThrow(/truncated/);
  });

  it('rejects corrupted headers, bad dtypes, shapes and offsets', () => {
    const path = join(dir, 'c.safetensors');
    const data = new Uint8Array(16);
    handMade(path, { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data);
    expect(readSafetensorsHeader(path).entries.size).toBe(1);
    const bytes = readFileSync(path);
    bytes[8] = 0x78; // "x" instead of the opening brace
    writeFileSync(path, bytes);
    expect(() => readSafetensorsHeader(path)).toThrow(/not valid JSON/);
    handMade(path, { a: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data);
    expect(() => readSafetensorsHeader(path)).toThrow(/"a" has dtype "I64"/);
    handMade(path, { a: { dtype: 'F32', shape: [5], data_offsets: [0, 16] } }, data);
    expect(() => readSafetensorsHeader(path)).toThrow(/"a" has 16 bytes for shape \[5\]/);
    handMade(path, { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data);
    expect(() => readSafetensorsHeader(path)).toThrow(/overlap/);
    handMade(path, { a: { dtype: 'F32', shape: [-1], data_offsets: [0, 16] } }, data);
    expect(() => readSafetensorsHeader(path)).toThrow(/invalid shape/);
  });

  it('refuses offsets that leave a gap or trailing bytes (they do not describe the data)', () => {
    const path = join(dir, 'g.safetensors');
    const data = new Uint8Array(24);
    // every offset shifted by 8: it would load, as other numbers
    handMade(
      path,
      { a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [16, 24] } },
      data,
    );
    expect(() => readSafetensorsHeader(path)).toThrow(
      /g\.safetensors: tensor "a" starts at data byte 8, but the tensors before it end at 0/,
    );
    handMade(
      path,
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [12, 20] } },
      data,
    );
    expect(() => readSafetensorsHeader(path)).toThrow(/tensor "b" starts at data byte 12, but the tensors before it end at 8/);
    handMade(path, { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data);
    expect(() => readSafetensorsHeader(path)).toThrow(/8 bytes follow the last tensor/);
    // back to back in any header order, a zero-size tensor anywhere: fine
    handMade(
      path,
      {
        b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
        e: { dtype: 'F16', shape: [0], data_offsets: [8, 8] },
        a: { dtype: 'BF16', shape: [4], data_offsets: [0, 8] },
        c: { dtype: 'F32', shape: [2], data_offsets: [16, 24] },
      },
      data,
    );
    expect([...readSafetensorsHeader(path).entries.keys()].sort()).toEqual(['a', 'b', 'c', 'e']);
  });

  it('writes and reads sharded checkpoints through the index', () => {
    const tensors = [0, 1, 2, 3, 4].map((i) => ({
      name: `t${i}`,
      shape: [10],
      data: Float32Array.from({ length: 10 }, (_, j) => i * 10 + j),
    }));
    writeWeights(dir, tensors, { maxShardBytes: 100 });
    expect(existsSync(join(dir, INDEX_FILE))).toBe(true);
    const index = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8'));
    expect(new Set(Object.values(index.weight_map)).size).toBe(3);
    expect(index.metadata.total_size).toBe(200);
    const w = openWeights(dir);
    expect(w.names().sort()).toEqual(['t0', 't1', 't2', 't3', 't4']);
    const out = new Float32Array(10);
    w.readInto('t3', out);
    expect(Array.from(out)).toEqual(Array.from(tensors[3].data));
    expect(() => w.readInto('nope', out)).toThrow(/no tensor "nope"/);
  });

  it('says when a directory holds no weights', () => {
    expect(() => openWeights(dir)).toThrow(/no model.safetensors/);
  });

  it('refuses a directory with both a single file and a shard index (loaders disagree on which is meant)', () => {
    writeWeights(dir, [{ name: 't', shape: [1], data: Float32Array.of(1) }]);
    expect(openWeights(dir).names()).toEqual(['t']);
    writeFileSync(join(dir, INDEX_FILE), JSON.stringify({ metadata: {}, weight_map: { t: 'model.safetensors' } }));
    expect(() => openWeights(dir)).toThrow(/holds both model\.safetensors and model\.safetensors\.index\.json.*delete the stale one/);
  });
});
