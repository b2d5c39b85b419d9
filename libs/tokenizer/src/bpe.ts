// The byte-level BPE model: vocab, merge ranks, and the merge loop that turns one pre-token into ids, with a
// cache of pre-token results. Merge order matches Hugging Face exactly: always the lowest-rank adjacent pair,
// leftmost first. Knows nothing of normalizers, splitting or added tokens (see tokenizer.ts).
import { UserError } from '@lwz/core';
import { BYTE_TO_CHAR } from './byte-level';
import { mergeHeap, mergeScan, type MergeTable } from './bpe-merge';
import { PairTable } from './pair-table';

export interface BpeModelJson {
  type?: string;
  vocab: Record<string, number>;
  merges: (string | [string, string])[];
  dropout?: number | null;
  continuing_subword_prefix?: string | null;
  end_of_word_suffix?: string | null;
  byte_fallback?: boolean;
  ignore_merges?: boolean;
}

const CACHE_LIMIT = 200_000; // entries; the cache is dropped whole when it fills (cheap, and rare in practice)
const MAX_CACHED_PIECE = 256; // characters; longer pieces are rare and would bloat the cache
const SCAN_LIMIT = 48; // symbols; longer words use the heap merge (O(n log n) instead of O(n^2))

function checkModel(model: BpeModelJson): void {
  if (model.type !== undefined && model.type !== 'BPE') {
    throw new UserError(`tokenizer.json model: type ${JSON.stringify(model.type)} is not supported (supported: BPE)`);
  }
  if (model.dropout) throw new UserError('tokenizer.json model: BPE dropout is not supported (set it to null)');
  if (model.continuing_subword_prefix || model.end_of_word_suffix) {
    throw new UserError('tokenizer.json model: continuing_subword_prefix / end_of_word_suffix are not supported');
  }
  if (model.byte_fallback) throw new UserError('tokenizer.json model: byte_fallback BPE is not supported');
}

export class BpeModel {
  /** Vocab string (byte-level characters) -> id. */
  readonly vocab: Map<string, number>;
  readonly ignoreMerges: boolean;
  private readonly table: MergeTable;
  private readonly byteIds = new Int32Array(256);
  private readonly cache = new Map<string, Int32Array>();
  private scratch = new Int32Array(256);

  constructor(model: BpeModelJson) {
    checkModel(model);
    this.vocab = new Map(Object.entries(model.vocab));
    this.ignoreMerges = model.ignore_merges === true;
    const ranks = new PairTable(model.merges.length);
    const results = new Int32Array(model.merges.length);
    model.merges.forEach((merge, rank) => {
      const [a, b] = typeof merge === 'string' ? splitMerge(merge, rank) : merge;
      const ia = this.vocab.get(a);
      const ib = this.vocab.get(b);
      const im = this.vocab.get(a + b);
      if (ia === undefined || ib === undefined || im === undefined) {
        throw new UserError(`tokenizer.json model.merges[${rank}]: ${JSON.stringify(merge)} uses a token not in the vocab`);
      }
      ranks.setIfAbsent(ia, ib, rank);
      results[rank] = im;
    });
    this.table = { ranks, results };
    for (let b = 0; b < 256; b++) {
      const id = this.vocab.get(BYTE_TO_CHAR[b]);
      if (id === undefined) {
        throw new UserError(`tokenizer.json model.vocab: byte ${b} (${JSON.stringify(BYTE_TO_CHAR[b])}) is missing; not a byte-level BPE`);
      }
      this.byteIds[b] = id;
    }
  }

  /** Forget cached pre-token results (benchmarks use it to time cold encodes). */
  clearCache(): void {
    this.cache.clear();
  }

  /** Ids for one pre-token (raw text; the byte-level mapping happens here). Cached; do not mutate the result. */
  encodeWord(piece: string): Int32Array {
    const hit = this.cache.get(piece);
    if (hit !== undefined) return hit;
    const ids = this.encodeUncached(piece);
    if (piece.length <= MAX_CACHED_PIECE) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(piece, ids);
    }
    return ids;
  }

  /** The merge loop itself, no cache; `strategy` forces one merge implementation (tests compare them). */
  encodeUncached(piece: string, strategy: 'auto' | 'scan' | 'heap' = 'auto'): Int32Array {
    if (this.scratch.length < 3 * piece.length) this.scratch = new Int32Array(6 * piece.length);
    const syms = this.scratch; // UTF-8 needs at most 3 bytes per UTF-16 unit; reused across calls
    const length = utf8Into(piece, syms);
    if (this.ignoreMerges) {
      let asVocab = '';
      for (let i = 0; i < length; i++) asVocab += BYTE_TO_CHAR[syms[i]];
      const whole = this.vocab.get(asVocab);
      if (whole !== undefined) return Int32Array.of(whole);
    }
    for (let i = 0; i < length; i++) syms[i] = this.byteIds[syms[i]];
    const useScan = strategy === 'scan' || (strategy === 'auto' && length <= SCAN_LIMIT);
    const n = useScan ? mergeScan(this.table, syms, length) : mergeHeap(this.table, syms, length);
    return syms.slice(0, n);
  }
}

/** Write the UTF-8 bytes of `text` into `out` (lone surrogates as U+FFFD, like TextEncoder); returns the count. */
function utf8Into(text: string, out: Int32Array): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
      continue;
    }
    if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        out[n++] = 0xf0 | (c >> 18);
        out[n++] = 0x80 | ((c >> 12) & 0x3f);
        out[n++] = 0x80 | ((c >> 6) & 0x3f);
        out[n++] = 0x80 | (c & 0x3f);
        continue;
      }
      c = 0xfffd;
    }
    out[n++] = 0xe0 | (c >> 12);
    out[n++] = 0x80 | ((c >> 6) & 0x3f);
    out[n++] = 0x80 | (c & 0x3f);
  }
  return n;
}

function splitMerge(merge: string, rank: number): [string, string] {
  const space = merge.indexOf(' ', 1);
  if (space < 0) throw new UserError(`tokenizer.json model.merges[${rank}]: ${JSON.stringify(merge)} is not "a b"`);
  return [merge.slice(0, space), merge.slice(space + 1)];
}
