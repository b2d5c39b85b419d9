// Assemble a corpus (embedded npm corpora + users' files), split it by document, and write/read the cleaned
// corpus directory: `train.jsonl`, `val.jsonl` (rows {id, title, source, text}) and `manifest.json`.
// The directory is replaced atomically. Not tokenized here: shards/ does that.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, writeJsonlPlain, pathKind, readJsonl, writeDirAtomic } from '@lwz/core';
import { countWords } from '@lwz/tokenizer';
import { type BuiltinCorpus, builtinCorpusVersion, loadBuiltinCorpus } from './builtin';
import { type CorpusDocument, type CorpusSplit, assertUniqueIds, splitDocuments } from './document';
import { loadUserCorpus } from './user';

export interface CorpusOptions {
  builtin: readonly BuiltinCorpus[];
  /** users' .txt/.md/.jsonl files or folders */
  files: readonly string[];
  valFraction: number;
  seed: number;
}

export const DEFAULT_CORPUS_OPTIONS: CorpusOptions = { builtin: ['sotu', 'moby-dick'], files: [], valFraction: 0.05, seed: 0 };

export interface SplitStats {
  documents: number;
  chars: number;
  words: number;
}

export interface CorpusManifest {
  format: 'lwz-corpus/1';
  options: CorpusOptions;
  /** installed versions of the embedded corpus packages used */
  packages: Record<string, string>;
  train: SplitStats;
  val: SplitStats;
}

function stats(docs: readonly CorpusDocument[]): SplitStats {
  let chars = 0;
  let words = 0;
  for (const d of docs) {
    chars += d.text.length;
    words += countWords(d.text);
  }
  return { documents: docs.length, chars, words };
}

export function buildCorpus(opts: CorpusOptions): { split: CorpusSplit; manifest: CorpusManifest } {
  const docs: CorpusDocument[] = [];
  const packages: Record<string, string> = {};
  for (const name of opts.builtin) {
    for (const d of loadBuiltinCorpus(name)) docs.push(d);
    packages[name] = builtinCorpusVersion(name);
  }
  // one by one: spreading a file of 100k+ documents into push() overflows the call stack
  for (const file of opts.files) for (const d of loadUserCorpus(file)) docs.push(d);
  if (docs.length === 0) throw new UserError('the corpus is empty: name at least one embedded corpus or file');
  assertUniqueIds(docs);
  const split = splitDocuments(docs, opts);
  const manifest: CorpusManifest = {
    format: 'lwz-corpus/1',
    options: { ...opts, builtin: [...opts.builtin], files: [...opts.files] },
    packages,
    train: stats(split.train),
    val: stats(split.val),
  };
  return { split, manifest };
}

/** Write the corpus directory whole (or leave the previous one untouched on failure). */
export function writeCorpus(dir: string, split: CorpusSplit, manifest: CorpusManifest): void {
  writeDirAtomic(dir, (tmp) => {
    writeJsonlPlain(join(tmp, 'train.jsonl'), split.train);
    writeJsonlPlain(join(tmp, 'val.jsonl'), split.val);
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  });
}

function validateDocument(value: unknown): CorpusDocument {
  const row = value as Record<string, unknown>;
  for (const field of ['id', 'title', 'source', 'text']) {
    if (!row || typeof row[field] !== 'string') throw new Error(`field "${field}" must be a string`);
  }
  return row as unknown as CorpusDocument;
}

/** Whether `dir` is a corpus directory written by writeCorpus (its manifest says lwz-corpus/1). */
export function isCorpusDir(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { format?: unknown }).format === 'lwz-corpus/1';
  } catch {
    return false;
  }
}

/** Read one side of a written corpus directory. */
export function readCorpusSplit(dir: string, side: 'train' | 'val'): CorpusDocument[] {
  const file = join(dir, `${side}.jsonl`);
  // a folder of the user's own text files is the usual mistake: it is what `data corpus --file` reads, not its output
  if (pathKind(dir) === 'dir' && pathKind(file) === null)
    throw new UserError(
      `${dir} is not a corpus directory (no ${side}.jsonl): give the --out of \`lwz-train data corpus\` (such as dist/data/corpus); ` +
        `to make one from your own files: lwz-train data corpus --file ${dir} --out <a new directory>`,
    );
  return readJsonl(file, validateDocument).map((r) => r.value);
}
