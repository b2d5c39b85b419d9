// data:prepare's work: tokenize a written corpus directory (train.jsonl / val.jsonl) and write packed shards.
// Each document is encoded as its title line, a blank line, then its text (so the model sees where a
// document starts), without the tokenizer's post-processor specials; the eot id separates documents.
// Not a tokenizer trainer (data:tokenizer does that first).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UserError, Progress, checkDirOutput } from '@lwz/core';
import type { Tokenizer } from '@lwz/tokenizer';
import { readCorpusSplit } from '../corpus/build';
import { isShardFile, type PackInput, type ShardIndex, writeShards } from './format';
import { buildFormatSamples, type FormatSampleOptions } from './format-samples';

export interface PrepareOptions {
  corpusDir: string;
  tokenizer: Tokenizer;
  /** identifies the tokenizer in the shard index (see tokenizerFileHash) */
  tokenizerHash: string;
  outDir: string;
  /** the document separator token, e.g. `<|endoftext|>` */
  eotToken: string;
  /** show progress on stderr */
  progress?: boolean;
  /** formatted writing samples mixed into the train split (format-samples.ts); absent or share 0: none */
  formatSamples?: FormatSampleOptions;
  /** told what the format samples came to (built, kept whole in a window, their share of the train tokens) */
  onFormatSamples?: (report: FormatSampleReport) => void;
}

export interface FormatSampleReport {
  /** the share asked */
  share: number;
  built: number;
  /** those that fit one pretraining window (the others are left out) */
  kept: number;
  /** the kept samples' share of the train split's tokens (padding included in the total) */
  achievedShare: number;
}

/** sha256 of a tokenizer.json file (first 16 hex digits): what the shard index records. */
export function tokenizerFileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
}

/** The text a document is tokenized as. */
export function documentText(doc: { title: string; text: string }): string {
  return doc.title ? `${doc.title}\n\n${doc.text}` : doc.text;
}

/**
 * Format samples placed so each lies whole inside one pretraining window: the packed stream is cut into fixed
 * windows of `window` tokens (WindowSampler), so a sample that straddles a boundary would be learnt without its
 * prompt or without its closing tags. Before a sample that would cross the next boundary, eot padding fills the
 * window (documents titled "padding"); samples longer than a window are left out. Also returns how many were kept,
 * their tokens and the whole split's (each document with its eot).
 */
export function alignedSamples(
  before: readonly PackInput[],
  samples: readonly number[][],
  window: number,
  eotId: number,
): { docs: PackInput[]; kept: number; keptTokens: number; totalTokens: number } {
  let pos = before.reduce((n, d) => n + d.ids.length + 1, 0); // each document is followed by one eot
  const out: PackInput[] = [];
  const pad = (): void => {
    const gap = (window - (pos % window)) % window;
    if (gap === 0) return;
    out.push({ id: `padding/${out.length}`, title: 'padding', ids: new Array<number>(gap - 1).fill(eotId) });
    pos += gap;
  };
  pad();
  let kept = 0;
  let keptTokens = 0;
  samples.forEach((ids, i) => {
    if (ids.length + 1 > window) return;
    if ((pos % window) + ids.length + 1 > window) pad();
    out.push({ id: `format-sample/${i}`, title: 'format sample', ids });
    pos += ids.length + 1;
    kept++;
    keptTokens += ids.length + 1;
  });
  return { docs: out, kept, keptTokens, totalTokens: pos };
}

export function prepareShards(opts: PrepareOptions): ShardIndex {
  // the output before the tokenizing (minutes on a large corpus): a refused --out costs nothing
  checkDirOutput(opts.outDir, isShardFile);
  const eotId = opts.tokenizer.tokenToId(opts.eotToken);
  if (eotId === undefined) {
    const specials = opts.tokenizer.addedTokens.map((t) => t.content).join(', ');
    throw new UserError(
      `the tokenizer has no token ${JSON.stringify(opts.eotToken)} to separate documents; its added tokens are: ${specials || 'none'}`,
    );
  }
  const sides = { train: readCorpusSplit(opts.corpusDir, 'train'), val: readCorpusSplit(opts.corpusDir, 'val') };
  const totalChars = [...sides.train, ...sides.val].reduce((n, d) => n + d.text.length, 0);
  const progress = opts.progress ? new Progress({ label: 'tokenize', total: totalChars, unit: 'chars' }) : null;
  const splits: Record<string, PackInput[]> = {};
  for (const [name, docs] of Object.entries(sides)) {
    splits[name] = docs.map((d) => {
      // a document that spells a special token (<|endoftext|>, <|im_start|>) keeps it as text: no document boundary or
      // turn marker comes from the corpus itself
      const ids = opts.tokenizer.encode(documentText(d), { addSpecialTokens: false, splitSpecialTokens: true });
      progress?.tick(d.text.length);
      // (T,) int32: outside the JavaScript heap, and half a number array's 8 bytes a token (a corpus of hundreds of MB)
      return { id: d.id, title: d.title, ids: Int32Array.from(ids) };
    });
  }
  let formatWindow: number | undefined;
  if (opts.formatSamples && opts.formatSamples.share > 0) {
    const trainTokens = splits.train.reduce((n, d) => n + d.ids.length, 0);
    let made: Progress | null = null;
    const { ids } = buildFormatSamples(sides.train, opts.tokenizer, trainTokens, opts.formatSamples, (n, goal) => {
      if (opts.progress) (made ??= new Progress({ label: 'format samples', total: Math.ceil(goal), unit: 'tokens' })).tick(n);
    });
    const aligned = alignedSamples(splits.train, ids, opts.formatSamples.window, eotId);
    for (const d of aligned.docs) splits.train.push(d); // one by one: a spread of 100k+ samples overflows the stack
    const { kept, keptTokens, totalTokens } = aligned;
    if (kept > 0) formatWindow = opts.formatSamples.window;
    opts.onFormatSamples?.({ share: opts.formatSamples.share, built: ids.length, kept, achievedShare: keptTokens / totalTokens });
  }
  return writeShards(opts.outDir, { eotId, vocabSize: opts.tokenizer.vocabSize, tokenizerHash: opts.tokenizerHash, splits, formatWindow });
}
