// The corpus document record and the deterministic train/validation split by document.
// Not a tokenized form: see shards/ for token ids.
import { UserError, hashString } from '@lwz/core';

export interface CorpusDocument {
  /** stable, unique id, e.g. `sotu/1790-george-washington` or `moby-dick/chapter-1` */
  id: string;
  title: string;
  /** which corpus it came from: `sotu`, `moby-dick`, or the user file's path */
  source: string;
  /** cleaned text (see cleanText) */
  text: string;
}

export interface SplitOptions {
  /** share of documents in validation, in [0, 1) */
  valFraction: number;
  /** changes which documents land in validation */
  seed: number;
}

export interface CorpusSplit {
  train: CorpusDocument[];
  val: CorpusDocument[];
}

/** Uniform-ish value in [0, 1) from the document id and seed: the split does not depend on document order. */
function splitKey(id: string, seed: number): number {
  return hashString(`${seed}/${id}`) / 2 ** 32;
}

/**
 * Split by document (never inside one): a document goes to validation when its hashed key is below
 * `valFraction`. Adding documents does not move the others. With two or more documents and valFraction > 0,
 * validation gets at least one (the lowest key) and train keeps at least one; a single document always trains.
 * Order within each side is the input order.
 */
export function splitDocuments(docs: readonly CorpusDocument[], opts: SplitOptions): CorpusSplit {
  if (!(opts.valFraction >= 0 && opts.valFraction < 1)) {
    throw new Error(`valFraction must be in [0, 1), got ${opts.valFraction}`);
  }
  const keys = docs.map((d) => splitKey(d.id, opts.seed));
  const isVal = keys.map((k) => k < opts.valFraction);
  const nVal = isVal.filter(Boolean).length;
  const order = keys.map((k, i) => [k, i] as const).sort((a, b) => a[0] - b[0]);
  if (docs.length >= 2 && opts.valFraction > 0 && nVal === 0) isVal[order[0][1]] = true;
  if (docs.length >= 1 && nVal === docs.length) isVal[order[order.length - 1][1]] = false;
  return { train: docs.filter((_, i) => !isVal[i]), val: docs.filter((_, i) => isVal[i]) };
}

/** Throw when two documents share an id (ids key the split and the shard index). */
export function assertUniqueIds(docs: readonly CorpusDocument[]): void {
  const seen = new Map<string, string>();
  for (const d of docs) {
    const prev = seen.get(d.id);
    if (prev !== undefined)
      throw new UserError(
        `duplicate document id ${JSON.stringify(d.id)} (from ${prev} and ${d.source}): give each JSONL row its own "id", and pass each file once (not also through its folder)`,
      );
    seen.set(d.id, d.source);
  }
}
