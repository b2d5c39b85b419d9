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

/** The bytes of tensor `name` as the spec lays them out: u64 LE header length, JSON header, data_offsets from there. */
function rawBytes(path: string, name: string): Buffer {
  const file = readFileSync(path);
  const n = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + n).toString('utf8'));
  const [begin, end] = header[name].data_offsets;
  return file.subarray(8 + n + begin, 8 + n + end);
}

describe('safetensors, against the format spec', () => {
  it('writes BF16 bits rounded to nearest even, keeping inf and NaN (bits worked out from the IEEE layout)', () => {
    // f32 bits -> bf16 bits: the top 16 bits, plus one when the low 16 exceed 0x8000 or equal it with the top odd
    const cases: [number, number][] = [
      [0x3f800000, 0x3f80], // 1
      [0x3f807fff, 0x3f80], // below the tie: down
      [0x3f808000, 0x3f80], // tie, 0x3f80 even: stays
      [0x3f808001, 0x3f81], // above the tie: up
      [0x3f818000, 0x3f82], // tie, 0x3f81 odd: up to even
      [0x3fffffff, 0x4000], // rounding carries into the exponent: 2
      [0x7f800000, 0x7f80], // +inf
      [0xff800000, 0xff80], // -inf
    ];
    const a = new Float32Array(new Uint32Array([...cases.map(([f]) => f), 0x7f800001, 0xffc00000]).buffer);
    const path = join(dir, 'r.safetensors');
    writeSafetensors(path, [{ name: 'a', shape: [a.length], data: a }], { dtype: 'BF16' });
    const raw = rawBytes(path, 'a');
    const bits = Array.from({ length: a.length }, (_, i) => raw.readUInt16LE(2 * i));
    expect(bits.slice(0, cases.length)).toEqual(cases.map(([, b]) => b));
    // NaN whose payload sits in the low 16 bits (truncation alone would give inf 0x7f80): still a NaN, sign kept
    for (const [b, sign] of [
      [bits[cases.length], 0],
      [bits[cases.length + 1], 0x8000],
    ]) {
      expect(b & 0x8000).toBe(sign);
      expect(b & 0x7f80).toBe(0x7f80);
      expect(b & 0x7f).not.toBe(0);
    }
  });

  it('reads F16 NaN, -inf and a mantissa with its top bit set', () => {
    const path = join(dir, 'n.safetensors');
    // 0x7e00: exponent 31, mantissa 0x200 -> NaN; 0xfc00 -> -inf; 0x3e00: 2^0 * (1 + 512/1024) = 1.5
    handMade(
      path,
      { h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] } },
      new Uint8Array(Uint16Array.of(0x7e00, 0xfc00, 0x3e00).buffer),
    );
    expect(Array.from(readAll(path, 'h'))).toEqual([NaN, -Infinity, 1.5]);
  });

  it('streams a BF16 tensor longer than one conversion chunk (2^18 values) to the right values', () => {
    const n = (1 << 18) + 5;
    // 0x3f80 + k is 1 + k/128 (exponent 127, 7-bit mantissa k)
    const bits = Uint16Array.from({ length: n }, (_, i) => 0x3f80 + (i % 127));
    const path = join(dir, 'big.safetensors');
    handMade(path, { a: { dtype: 'BF16', shape: [n], data_offsets: [0, 2 * n] } }, new Uint8Array(bits.buffer));
    const out = readAll(path, 'a');
    for (const i of [0, 1, n - 6, n - 5, n - 4, n - 1]) expect(out[i]).toBe(1 + (i % 127) / 128);
    expect(out.every((v, i) => v === 1 + (i % 127) / 128)).toBe(true);
  });

  it('refuses headers whose offsets or sizes do not describe the data, each with its own reason', () => {
    const path = join(dir, 'o.safetensors');
    handMade(path, { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16, 16] } }, new Uint8Array(16));
    expect(() => readSafetensorsHeader(path)).toThrow(/"a" has invalid data_offsets \[0,16,16\]/);
    handMade(path, { a: { dtype: 'F32', shape: [0], data_offsets: [16, 0] } }, new Uint8Array(16));
    expect(() => readSafetensorsHeader(path)).toThrow(/"a" has invalid data_offsets \[16,0\]/);
    handMade(path, { a: { dtype: 'F32', shape: [2], data_offsets: [0, 16] } }, new Uint8Array(16));
    expect(() => readSafetensorsHeader(path)).toThrow(/"a" has 16 bytes for shape \[2\] F32 \(needs 8\)/);
    handMade(path, { a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, new Uint8Array(1));
    expect(() => readSafetensorsHeader(path)).toThrow(/truncated: tensor "a" ends at data byte 2, the data section has 1/);
    // F16 tensors overlapping by one byte
    handMade(
      path,
      { a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] }, b: { dtype: 'F16', shape: [1], data_offsets: [1, 3] } },
      new Uint8Array(3),
    );
    expect(() => readSafetensorsHeader(path)).toThrow(/"a" and "b" overlap/);
  });

  it('checks the 8-byte length prefix against the file size', () => {
    const path = join(dir, 'l.safetensors');
    writeFileSync(path, new Uint8Array(7));
    expect(() => readSafetensorsHeader(path)).toThrow(/7 bytes, a safetensors file needs at least 8/);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(12n); // 12 header bytes announced, 10 follow: 18 bytes in all
    writeFileSync(path, Buffer.concat([len, Buffer.from('{"a":1}   ')]));
    expect(() => readSafetensorsHeader(path)).toThrow(/header length 12 does not fit the file \(18 bytes\)/);
  });

  it("writes __metadata__.format 'pt' (transformers refuses a safetensors file without it)", () => {
    const path = join(dir, 'p.safetensors');
    writeSafetensors(path, [{ name: 'a', shape: [1], data: Float32Array.of(1) }], { metadata: { step: '3' } });
    const file = readFileSync(path);
    const header = JSON.parse(file.subarray(8, 8 + Number(file.readBigUInt64LE(0))).toString('utf8'));
    expect(header.__metadata__).toEqual({ format: 'pt', step: '3' });
  });

  it('refuses F16 output and data that does not fill its shape, leaving no file', () => {
    const path = join(dir, 'w.safetensors');
    const one = [{ name: 'a', shape: [1], data: Float32Array.of(1) }];
    expect(() => writeSafetensors(path, one, { dtype: 'F16' })).toThrow(/F16 output is not supported/);
    expect(() => writeSafetensors(path, [{ name: 'a', shape: [2, 2], data: new Float32Array(3) }])).toThrow(
      /a has 3 values for shape \[2, 2\]/,
    );
    expect(() => writeSafetensors(path, [{ name: 'a', shape: [2, 2], data: () => new Float32Array(3) }])).toThrow(
      /a has 3 values for shape \[2, 2\]/,
    );
    expect(existsSync(path)).toBe(false);
  });

  it('names a file cut short after its header was read (a checkpoint overwritten while loading)', () => {
    const path = join(dir, 'cut.safetensors');
    writeSafetensors(path, [{ name: 'a', shape: [4], data: new Float32Array(4) }]);
    const e = readSafetensorsHeader(path).entries.get('a');
    if (!e) throw new Error('no a');
    truncateSync(path, e.offset + 6);
    expect(() => readEntryInto(path, e, new Float32Array(4))).toThrow(
      `${path}: file is truncated (unexpected end at byte ${e.offset + 6})`,
    );
  });

  it('readEntryInto refuses a destination of another length', () => {
    const path = join(dir, 'd.safetensors');
    writeSafetensors(path, [{ name: 'a', shape: [4], data: new Float32Array(4) }]);
    const e = readSafetensorsHeader(path).entries.get('a');
    if (!e) throw new Error('no a');
    expect(() => readEntryInto(path, e, new Float32Array(5))).toThrow(/a has 4 values, destination 5/);
    expect(() => readEntryInto(path, e, new Float32Array(3))).toThrow(/a has 4 values, destination 3/);
  });
});
