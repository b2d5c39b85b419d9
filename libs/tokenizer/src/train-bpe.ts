// Byte-level BPE training: count pre-tokens (Qwen2 split, NFC, special tokens cut out), then repeatedly merge
// the most frequent adjacent pair (ties: lowest left id, then lowest right id) until the vocabulary is full.
// Deterministic for the same corpus. Produces the vocab and merges; tokenizer-json.ts writes the files.
import { UserError } from '@lwz/core';
import { BYTE_TO_CHAR } from './byte-level';
import { buildPreTokenizer } from './components';
import { escapeRegex } from './regex';
import { DEFAULT_SPECIAL_TOKENS, type SpecialTokenSpec } from './special-tokens';
import { PairHeap } from './train-heap';
import { QWEN2_SPLIT_PATTERN } from './split-pattern';

export interface TrainBpeOptions {
  /** Total ids: 256 bytes + learned merges + special tokens. */
  vocabSize: number;
  specialTokens?: readonly SpecialTokenSpec[];
  /** Pairs seen fewer times than this are never merged (training may then stop below vocabSize). Default 2. */
  minFrequency?: number;
}

export interface TrainedBpe {
  /** Token strings (byte-level characters) by id, specials excluded. */
  vocab: string[];
  merges: [string, string][];
  specialTokens: readonly SpecialTokenSpec[];
}

/** Pre-token -> count over all texts, in first-seen order. */
export function countPreTokens(texts: Iterable<string>, specials: readonly SpecialTokenSpec[]): Map<string, number> {
  const pre = buildPreTokenizer({
    type: 'Split',
    pattern: { Regex: QWEN2_SPLIT_PATTERN },
    behavior: 'Isolated',
  }).run;
  const cut = specials.length ? new RegExp(specials.map((s) => escapeRegex(s.content)).join('|'), 'gu') : null;
  const counts = new Map<string, number>();
  const add = (piece: string): void => {
    counts.set(piece, (counts.get(piece) ?? 0) + 1);
  };
  for (const text of texts) {
    for (const part of cut ? text.split(cut) : [text]) pre(part.normalize('NFC'), add);
  }
  return counts;
}

export function trainBpe(texts: Iterable<string>, options: TrainBpeOptions): TrainedBpe {
  const specials = options.specialTokens ?? DEFAULT_SPECIAL_TOKENS;
  const target = options.vocabSize - specials.length;
  if (!Number.isInteger(options.vocabSize) || target < 256) {
    throw new UserError(`vocab size ${options.vocabSize} is too small: need at least 256 bytes + ${specials.length} special tokens`);
  }
  const minFrequency = options.minFrequency ?? 2;
  const encoder = new TextEncoder();
  const wordCounts = countPreTokens(texts, specials);
  const words: Int32Array[] = []; // per unique pre-token: its current symbol ids
  const freq: number[] = [];
  for (const [w, c] of wordCounts) {
    words.push(Int32Array.from(encoder.encode(w)));
    freq.push(c);
  }
  const vocab = [...BYTE_TO_CHAR];
  const idOf = new Map(vocab.map((t, i) => [t, i]));
  const stride = options.vocabSize; // pair key = left * stride + right
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const heap = new PairHeap();
  const changed = new Set<number>();
  const addPairs = (w: number, sign: number): void => {
    const s = words[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i] * stride + s[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * freq[w]);
      changed.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);
  const flush = (): void => {
    for (const key of changed) heap.push(pairCount.get(key) ?? 0, key);
    changed.clear();
  };
  flush();
  const merges: [string, string][] = [];
  while (vocab.length < target && heap.size > 0) {
    const [count, key] = heap.pop();
    if (count !== pairCount.get(key)) continue; // stale entry
    if (count < minFrequency) break;
    const a = Math.floor(key / stride);
    const b = key - a * stride;
    const content = vocab[a] + vocab[b];
    let m = idOf.get(content);
    if (m === undefined) {
      m = vocab.length;
      vocab.push(content);
      idOf.set(content, m);
    }
    merges.push([vocab[a], vocab[b]]);
    for (const w of pairWords.get(key) ?? []) {
      if (!containsPair(words[w], a, b)) continue;
      addPairs(w, -1);
      words[w] = mergeWord(words[w], a, b, m);
      addPairs(w, 1);
    }
    pairCount.delete(key);
    pairWords.delete(key);
    changed.delete(key);
    flush();
  }
  return { vocab, merges, specialTokens: specials };
}

function containsPair(s: Int32Array, a: number, b: number): boolean {
  for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) return true;
  return false;
}

/** Replace each non-overlapping (a, b), left to right, by m. */
function mergeWord(s: Int32Array, a: number, b: number, m: number): Int32Array {
  const out = new Int32Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
      out[n++] = m;
      i++;
    } else out[n++] = s[i];
  }
  return out.slice(0, n);
}
