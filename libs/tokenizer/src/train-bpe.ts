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
  // longest first: the regex takes the first alternative that matches, and "<a>" before "<a>b" would leave a stray "b"
  // where encoding (longest match) sees one token
  const byLength = [...specials].sort((x, y) => y.content.length - x.content.length);
  const cut = specials.length ? new RegExp(byLength.map((s) => escapeRegex(s.content)).join('|'), 'gu') : null;
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
  if (!Number.isInteger(options.vocabSize)) throw new UserError(`vocab size must be a whole number, got ${options.vocabSize}`);
  if (target < 256) {
    throw new UserError(`vocab size ${options.vocabSize} is too small: need at least 256 bytes + ${specials.length} special tokens`);
  }
  const seen = new Set<string>();
  for (const sp of specials) {
    if (seen.has(sp.content)) throw new UserError(`special token ${JSON.stringify(sp.content)} is listed twice; list each once`);
    seen.add(sp.content);
    // Hugging Face resolves such a token to the byte's own id, we to the added one: the ids would disagree
    if (BYTE_TO_CHAR.includes(sp.content))
      throw new UserError(`special token ${JSON.stringify(sp.content)} is one of the 256 byte tokens; choose a longer marker`);
  }
  const minFrequency = options.minFrequency ?? 2;
  if (!(Number.isFinite(minFrequency) && minFrequency >= 1))
    throw new UserError(`minFrequency must be a number >= 1, got ${minFrequency} (pairs that no longer occur would be merged)`);
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
  // each touched pair's count before this merge: only pairs whose count moved get a new heap entry (an unchanged
  // count's entry is still valid). Pushing every touched pair piled up stale entries: 6 million for a 10k-character
  // pre-token (one unpunctuated CJK run), and a fatal V8 size error at 200k characters
  const before = new Map<number, number>();
  const addPairs = (w: number, sign: number): void => {
    const s = words[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i] * stride + s[i + 1];
      const old = pairCount.get(key) ?? 0;
      if (!before.has(key)) before.set(key, old);
      pairCount.set(key, old + sign * freq[w]);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);
  const flush = (): void => {
    for (const [key, was] of before) {
      const now = pairCount.get(key) ?? 0;
      if (now !== was) heap.push(now, key);
    }
    before.clear();
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
    before.delete(key);
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
