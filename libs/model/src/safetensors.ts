// The safetensors file format (Hugging Face): an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {str: str}}, then the raw tensor bytes.
// Reads validate everything (header JSON, dtypes, shapes, offsets, file size) and stream each tensor
// straight into the caller's Float32Array (F32, F16, BF16 converted on the fly); writes stream F32 or BF16.
// Never holds a second copy of the weights. Not supported: other dtypes (I8, F64, ...), big-endian hosts.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UserError, writeFileAtomic } from '@lwz/core';

export type StDtype = 'F32' | 'F16' | 'BF16';
const BYTES: Record<StDtype, number> = { F32: 4, F16: 2, BF16: 2 };
const MAX_HEADER = 100 * 1024 * 1024;
const CHUNK_VALUES = 1 << 18; // conversion scratch: 256 K values

export interface StEntry {
  name: string;
  dtype: StDtype;
  shape: number[];
  /** absolute byte offset of the tensor's data in the file */
  offset: number;
  byteLength: number;
}

export interface StHeader {
  path: string;
  entries: Map<string, StEntry>;
  metadata: Record<string, string>;
}

function readExactly(fd: number, buf: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new UserError(`${path}: file is truncated (unexpected end at byte ${position + done})`);
    done += n;
  }
}

function parseEntry(path: string, name: string, v: unknown, dataStart: number, dataLen: number): StEntry {
  const bad = (what: string): never => {
    throw new UserError(`${path}: tensor "${name}" ${what}; the file is corrupted or not a safetensors file`);
  };
  if (!v || typeof v !== 'object') bad('has no {dtype, shape, data_offsets} entry');
  const { dtype, shape, data_offsets: offs } = v as Record<string, unknown>;
  if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
    throw new UserError(`${path}: tensor "${name}" has dtype ${JSON.stringify(dtype)}; supported: F32, F16, BF16`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`has an invalid shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1]) {
    bad(`has invalid data_offsets ${JSON.stringify(offs)}`);
  }
  const [begin, end] = offs as number[];
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  if (end - begin !== numel * BYTES[dtype]) {
    bad(`has ${end - begin} bytes for shape [${(shape as number[]).join(', ')}] ${dtype} (needs ${numel * BYTES[dtype]})`);
  }
  if (end > dataLen) {
    throw new UserError(`${path}: file is truncated: tensor "${name}" ends at data byte ${end}, the data section has ${dataLen}`);
  }
  return { name, dtype, shape: shape as number[], offset: dataStart + begin, byteLength: end - begin };
}

/** Read and validate a safetensors header (the data is not read). */
export function readSafetensorsHeader(path: string): StHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new UserError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw new UserError(`${path}: file is truncated (${size} bytes, a safetensors file needs at least 8)`);
    const lenBuf = new Uint8Array(8);
    readExactly(fd, lenBuf, 0, path);
    const headerLen = Number(new DataView(lenBuf.buffer).getBigUint64(0, true));
    if (headerLen > MAX_HEADER || 8 + headerLen > size) {
      throw new UserError(`${path}: header length ${headerLen} does not fit the file (${size} bytes): truncated or not safetensors`);
    }
    const hbuf = new Uint8Array(headerLen);
    readExactly(fd, hbuf, 8, path);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(hbuf));
    } catch (e) {
      throw new UserError(`${path}: header is not valid JSON (${(e as Error).message}); the file is corrupted`);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new UserError(`${path}: header must be a JSON object`);
    const dataStart = 8 + headerLen;
    const entries = new Map<string, StEntry>();
    let metadata: Record<string, string> = {};
    for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') {
        metadata = (v ?? {}) as Record<string, string>;
        continue;
      }
      entries.set(name, parseEntry(path, name, v, dataStart, size - dataStart));
    }
    checkLayout(path, [...entries.values()], dataStart, size);
    return { path, entries, metadata };
  } finally {
    closeSync(fd);
  }
}

/**
 * The data section must be the tensors back to back from byte 0 to its end, as the safetensors format (and its
 * reference reader) requires: a gap or trailing bytes mean offsets that do not describe the data, so the file
 * would load as some other numbers.
 */
function checkLayout(path: string, entries: StEntry[], dataStart: number, size: number): void {
  const sorted = [...entries].sort((a, b) => a.offset - b.offset || a.byteLength - b.byteLength);
  let at = dataStart;
  for (const [i, e] of sorted.entries()) {
    if (e.offset < at) {
      throw new UserError(`${path}: tensors "${sorted[i - 1].name}" and "${e.name}" overlap; the file is corrupted`);
    }
    if (e.offset > at) {
      throw new UserError(
        `${path}: tensor "${e.name}" starts at data byte ${e.offset - dataStart}, but the tensors before it end at ${at - dataStart} ` +
          '(safetensors data has no gaps); the header does not describe the data: the file is corrupted',
      );
    }
    at = e.offset + e.byteLength;
  }
  if (at !== size) {
    throw new UserError(
      `${path}: ${size - at} bytes follow the last tensor (safetensors data ends with its last tensor); the file is corrupted or was appended to`,
    );
  }
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Stream one tensor's values into `dest` (length = numel), converting F16/BF16 to f32. */
export function readEntryInto(path: string, entry: StEntry, dest: Float32Array): void {
  const numel = entry.byteLength / BYTES[entry.dtype];
  if (dest.length !== numel) throw new Error(`readEntryInto: ${entry.name} has ${numel} values, destination ${dest.length}`);
  const fd = openSync(path, 'r');
  try {
    if (entry.dtype === 'F32') {
      readExactly(fd, new Uint8Array(dest.buffer, dest.byteOffset, entry.byteLength), entry.offset, path);
      return;
    }
    const scratch = new Uint16Array(Math.min(CHUNK_VALUES, numel));
    const bytes = new Uint8Array(scratch.buffer);
    const u32 = new Uint32Array(dest.buffer, dest.byteOffset, dest.length);
    for (let start = 0; start < numel; start += scratch.length) {
      const n = Math.min(scratch.length, numel - start);
      readExactly(fd, bytes.subarray(0, n * 2), entry.offset + start * 2, path);
      if (entry.dtype === 'BF16') for (let i = 0; i < n; i++) u32[start + i] = scratch[i] << 16;
      else for (let i = 0; i < n; i++) dest[start + i] = f16ToF32(scratch[i]);
    }
  } finally {
    closeSync(fd);
  }
}

/** f32 -> bf16 bits, round to nearest even (NaN stays NaN). */
function f32ToBf16(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export interface StTensor {
  name: string;
  shape: readonly number[];
  /** (numel,) values, or a function producing them when the writer reaches this tensor (e.g. a LoRA merge) */
  data: Float32Array | (() => Float32Array);
}

function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function* tensorBytes(tensors: readonly StTensor[], dtype: StDtype): Generator<Uint8Array> {
  for (const t of tensors) {
    const data = typeof t.data === 'function' ? t.data() : t.data;
    if (data.length !== numelOf(t.shape))
      throw new Error(`writeSafetensors: ${t.name} has ${data.length} values for shape [${t.shape.join(', ')}]`);
    if (dtype === 'F32') {
      yield new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      continue;
    }
    const u32 = new Uint32Array(data.buffer, data.byteOffset, data.length);
    for (let start = 0; start < u32.length; start += CHUNK_VALUES) {
      const n = Math.min(CHUNK_VALUES, u32.length - start);
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = f32ToBf16(u32[start + i]);
      yield new Uint8Array(out.buffer);
    }
  }
}

/** Write tensors to one safetensors file atomically, streaming (F32 is written from the arrays in place). */
export function writeSafetensors(
  path: string,
  tensors: readonly StTensor[],
  opts: { dtype?: StDtype; metadata?: Record<string, string> } = {},
): void {
  const dtype = opts.dtype ?? 'F32';
  if (dtype === 'F16') throw new Error('writeSafetensors: F16 output is not supported; use F32 or BF16');
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', ...(opts.metadata ?? {}) } };
  let offset = 0;
  for (const t of tensors) {
    const n = numelOf(t.shape);
    if (typeof t.data !== 'function' && n !== t.data.length) {
      throw new Error(`writeSafetensors: ${t.name} has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    }
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + n * BYTES[dtype]] };
    offset += n * BYTES[dtype];
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // data starts 8-byte aligned
  const hbytes = Buffer.from(json, 'utf8');
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  writeFileAtomic(
    path,
    (function* () {
      yield len;
      yield hbytes;
      yield* tensorBytes(tensors, dtype);
    })(),
  );
}

export function dtypeBytes(dtype: StDtype): number {
  return BYTES[dtype];
}
