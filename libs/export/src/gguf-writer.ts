// A GGUF (version 3) file writer, written from the format spec in ggml's docs/gguf.md: header, typed
// metadata key/values, tensor infos (dims innermost-first), then tensor data, each aligned to
// `general.alignment`. It serialises what it is given; it knows nothing about models (gguf-export.ts
// maps a checkpoint onto llama.cpp's names). Only F32 and F16 tensors; no quantised types.

/** gguf_metadata_value_type */
export const GgufType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufScalarType = Exclude<(typeof GgufType)[keyof typeof GgufType], 9>;

export type GgufValue =
  | { type: GgufScalarType; value: number | bigint | boolean | string }
  | { type: 9; itemType: GgufScalarType; items: readonly (number | bigint | boolean | string)[] };

/** ggml_type values we write */
export const GgmlType = { F32: 0, F16: 1 } as const;
export type GgmlTypeId = (typeof GgmlType)[keyof typeof GgmlType];

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the innermost (contiguous) dimension, i.e. the row length */
  dims: readonly number[];
  type: GgmlTypeId;
  /** little-endian element bytes: 4 per value for F32, 2 for F16 */
  data: Uint8Array;
}

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

const enc = new TextEncoder();

/** Growable little-endian byte buffer for the header part of the file. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  u64(v: number | bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  scalar(type: GgufScalarType, v: number | bigint | boolean | string): void {
    this.reserve(8);
    const d = this.view;
    const o = this.length;
    switch (type) {
      case 0:
        d.setUint8(o, Number(v));
        this.length += 1;
        return;
      case 1:
        d.setInt8(o, Number(v));
        this.length += 1;
        return;
      case 2:
        d.setUint16(o, Number(v), true);
        this.length += 2;
        return;
      case 3:
        d.setInt16(o, Number(v), true);
        this.length += 2;
        return;
      case 4:
        d.setUint32(o, Number(v), true);
        this.length += 4;
        return;
      case 5:
        d.setInt32(o, Number(v), true);
        this.length += 4;
        return;
      case 6:
        d.setFloat32(o, Number(v), true);
        this.length += 4;
        return;
      case 7:
        d.setUint8(o, v ? 1 : 0);
        this.length += 1;
        return;
      case 8:
        this.string(String(v));
        return;
      case 10:
        d.setBigUint64(o, BigInt(v), true);
        this.length += 8;
        return;
      case 11:
        d.setBigInt64(o, BigInt(v), true);
        this.length += 8;
        return;
      case 12:
        d.setFloat64(o, Number(v), true);
        this.length += 8;
        return;
      default:
        throw new Error(`gguf: unknown value type ${String(type satisfies never)}`);
    }
  }
  /** gguf_string_t: uint64 byte length, then UTF-8 bytes without a terminator */
  string(s: string): void {
    const b = enc.encode(s);
    this.u64(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  padTo(alignment: number): void {
    while (this.length % alignment !== 0) this.u8(0);
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function bytesPerElement(type: GgmlTypeId): number {
  return type === GgmlType.F32 ? 4 : 2;
}

/**
 * Serialise a GGUF file as a sequence of byte chunks (header, then each tensor's data and padding), so a
 * caller can stream it to disk without one contiguous copy. `metadata` keys keep their insertion order.
 */
export function* ggufChunks(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensor[]): Generator<Uint8Array> {
  const alignValue = metadata.get('general.alignment');
  const alignment = alignValue && alignValue.type !== 9 ? Number(alignValue.value) : GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) {
    throw new Error(`gguf: general.alignment must be a positive multiple of 8, got ${alignment}`);
  }
  const h = new ByteSink();
  h.u32(GGUF_MAGIC);
  h.u32(GGUF_VERSION);
  h.u64(tensors.length);
  h.u64(metadata.size);
  for (const [key, v] of metadata) {
    h.string(key);
    h.u32(v.type);
    if (v.type === GgufType.ARRAY) {
      h.u32(v.itemType);
      h.u64(v.items.length);
      for (const item of v.items) h.scalar(v.itemType, item);
    } else {
      h.scalar(v.type, v.value);
    }
  }
  const seen = new Set<string>();
  let offset = 0;
  for (const t of tensors) {
    if (seen.has(t.name)) throw new Error(`gguf: duplicate tensor name ${t.name}`);
    seen.add(t.name);
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (t.data.length !== n * bytesPerElement(t.type)) {
      throw new Error(`gguf: tensor ${t.name} has ${t.data.length} bytes for dims [${t.dims.join(', ')}]`);
    }
    h.string(t.name);
    h.u32(t.dims.length);
    for (const d of t.dims) h.u64(d);
    h.u32(t.type);
    h.u64(offset);
    offset += Math.ceil(t.data.length / alignment) * alignment;
  }
  h.padTo(alignment);
  yield h.bytes();
  for (const t of tensors) {
    yield t.data;
    const pad = (alignment - (t.data.length % alignment)) % alignment;
    if (pad > 0) yield new Uint8Array(pad);
  }
}

/** Convenience constructors for metadata values. */
export const gguf = {
  u32: (value: number): GgufValue => ({ type: GgufType.UINT32, value }),
  i32: (value: number): GgufValue => ({ type: GgufType.INT32, value }),
  f32: (value: number): GgufValue => ({ type: GgufType.FLOAT32, value }),
  bool: (value: boolean): GgufValue => ({ type: GgufType.BOOL, value }),
  str: (value: string): GgufValue => ({ type: GgufType.STRING, value }),
  strings: (items: readonly string[]): GgufValue => ({ type: GgufType.ARRAY, itemType: GgufType.STRING, items }),
  i32s: (items: readonly number[]): GgufValue => ({ type: GgufType.ARRAY, itemType: GgufType.INT32, items }),
};
