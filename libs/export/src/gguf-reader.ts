// A GGUF (version 2/3) reader for checking what we wrote: header, metadata and tensor infos, plus each
// tensor's bytes located through `general.alignment`. Written from the spec, independently of the writer's
// code paths (it parses bytes, it does not reuse ByteSink). Reads a whole file into memory: small files only.
import { readFileSync } from 'node:fs';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgufType, type GgmlTypeId } from './gguf-writer';

export type GgufReadValue = number | bigint | boolean | string | GgufReadValue[];

export interface GgufReadTensor {
  name: string;
  dims: number[];
  type: GgmlTypeId;
  /** offset from the start of the data section */
  offset: number;
  data: Uint8Array;
}

export interface GgufFile {
  version: number;
  alignment: number;
  metadata: Map<string, GgufReadValue>;
  tensors: Map<string, GgufReadTensor>;
  dataStart: number;
}

const dec = new TextDecoder('utf-8', { fatal: true });

class Cursor {
  pos = 0;
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): number {
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`gguf: uint64 ${v} too large at byte ${this.pos - 8}`);
    return Number(v);
  }
  string(): string {
    const n = this.u64();
    const s = dec.decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  value(type: number): GgufReadValue {
    const d = this.view;
    const o = this.pos;
    const step = (n: number, v: GgufReadValue): GgufReadValue => ((this.pos += n), v);
    switch (type) {
      case GgufType.UINT8:
        return step(1, d.getUint8(o));
      case GgufType.INT8:
        return step(1, d.getInt8(o));
      case GgufType.UINT16:
        return step(2, d.getUint16(o, true));
      case GgufType.INT16:
        return step(2, d.getInt16(o, true));
      case GgufType.UINT32:
        return step(4, d.getUint32(o, true));
      case GgufType.INT32:
        return step(4, d.getInt32(o, true));
      case GgufType.FLOAT32:
        return step(4, d.getFloat32(o, true));
      case GgufType.BOOL:
        return step(1, d.getUint8(o) !== 0);
      case GgufType.STRING:
        return this.string();
      case GgufType.UINT64:
        return step(8, d.getBigUint64(o, true));
      case GgufType.INT64:
        return step(8, d.getBigInt64(o, true));
      case GgufType.FLOAT64:
        return step(8, d.getFloat64(o, true));
      case GgufType.ARRAY: {
        const itemType = this.u32();
        const n = this.u64();
        const items: GgufReadValue[] = [];
        for (let i = 0; i < n; i++) items.push(this.value(itemType));
        return items;
      }
      default:
        throw new Error(`gguf: unknown metadata value type ${type} at byte ${o}`);
    }
  }
}

/** Parse GGUF bytes. Throws on a bad magic, an unsupported version or a truncated file. */
export function parseGguf(bytes: Uint8Array): GgufFile {
  const c = new Cursor(bytes);
  if (c.u32() !== GGUF_MAGIC) throw new Error('gguf: bad magic (not a GGUF file)');
  const version = c.u32();
  if (version !== 2 && version !== 3) throw new Error(`gguf: unsupported version ${version}`);
  const tensorCount = c.u64();
  const kvCount = c.u64();
  const metadata = new Map<string, GgufReadValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string();
    metadata.set(key, c.value(c.u32()));
  }
  const alignment = Number(metadata.get('general.alignment') ?? GGUF_DEFAULT_ALIGNMENT);
  const infos: Omit<GgufReadTensor, 'data'>[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string();
    const nDims = c.u32();
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.u64());
    const type = c.u32() as GgmlTypeId;
    infos.push({ name, dims, type, offset: c.u64() });
  }
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  const tensors = new Map<string, GgufReadTensor>();
  for (const t of infos) {
    const bpe = t.type === 0 ? 4 : t.type === 1 ? 2 : NaN;
    if (Number.isNaN(bpe)) throw new Error(`gguf: tensor ${t.name} has unsupported ggml type ${t.type}`);
    const n = t.dims.reduce((a, b) => a * b, 1) * bpe;
    const start = dataStart + t.offset;
    if (start + n > bytes.length) throw new Error(`gguf: tensor ${t.name} runs past the end of the file`);
    tensors.set(t.name, { ...t, data: bytes.subarray(start, start + n) });
  }
  return { version, alignment, metadata, tensors, dataStart };
}

export function readGguf(path: string): GgufFile {
  return parseGguf(new Uint8Array(readFileSync(path)));
}

/** A tensor's values as f32 (F16 widened). */
export function ggufTensorValues(t: GgufReadTensor): Float32Array {
  if (t.type === 0) return new Float32Array(t.data.slice().buffer);
  const h = new Uint16Array(t.data.slice().buffer);
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = f16ToF32(h[i]);
  return out;
}

/** IEEE 754 binary16 bits to a number. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
