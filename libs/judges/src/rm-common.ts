// What the two reward-model quality scorers share (rm-scorer.ts in process, onnx-rm-scorer.ts through
// onnxruntime): option validation whose errors name `quality.options.<field>`, the logit -> [0, 1] mapping,
// length-sorted right-padded micro-batches, and the file fingerprint that goes into a scorer's id so caches
// keyed on it never mix two models. Not a scorer itself, and not what the RM reads (rm-input.ts).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError, z } from '@lwz/core';
import type { QualityScore } from '@lwz/rewards';
import type { RmInput } from './rm-input';

/** Micro-batch size when `batchSize` is not given. */
export const DEFAULT_RM_BATCH_SIZE = 8;

export const batchSizeOption = z
  .number({ error: 'must be a positive integer (answers per forward pass)' })
  .int({ error: 'must be a positive integer (answers per forward pass)' })
  .positive({ error: 'must be a positive integer (answers per forward pass)' })
  .default(DEFAULT_RM_BATCH_SIZE)
  .describe(`answers per forward pass (default ${DEFAULT_RM_BATCH_SIZE}); lower it when memory runs short, scores do not change`);

export const maxTokensOption = z
  .number({ error: 'must be an integer >= 2 (tokens read per answer, end-of-text included)' })
  .int({ error: 'must be an integer >= 2 (tokens read per answer, end-of-text included)' })
  .min(2, { error: 'must be an integer >= 2 (tokens read per answer, end-of-text included)' })
  .optional()
  .describe("tokens read per answer, end-of-text included (default: the model's context); a longer answer keeps its head");

export const pathOption = (what: string) =>
  z
    .string({ error: `must be a path: ${what}` })
    .min(1, { error: `must be a path: ${what}` })
    .describe(what);

/** Validate a scorer's `quality.options`; a UserError lists every bad field as `quality.options.<field>: fix`. */
export function parseScorerOptions<S extends z.ZodObject>(schema: S, raw: Record<string, unknown>, scorer: string): z.output<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const valid = Object.keys(schema.shape).join(', ');
  const lines = r.error.issues.map((i) =>
    i.code === 'unrecognized_keys'
      ? `quality.options: unknown field(s) ${i.keys.join(', ')} (valid: ${valid})`
      : `quality.options.${i.path.join('.')}: ${i.message}`,
  );
  throw new UserError(`quality scorer "${scorer}": invalid options\n  - ${lines.join('\n  - ')}`);
}

/** A UserError naming the option `quality.options.<field>`. */
export function optionError(field: string, message: string): UserError {
  return new UserError(`quality.options.${field}: ${message}`);
}

/** A path that must exist: its kind checked, else an error naming the option. */
export function existingPath(field: string, path: string, kind: 'file' | 'directory' | 'any', hint: string): string {
  if (!existsSync(path)) throw optionError(field, `${path} does not exist; ${hint}`);
  const isDir = statSync(path).isDirectory();
  if (kind === 'file' && isDir) throw optionError(field, `${path} is a directory, expected a file; ${hint}`);
  if (kind === 'directory' && !isDir) throw optionError(field, `${path} is not a directory; ${hint}`);
  return path;
}

/**
 * The QualityScorer scale: score = sigmoid(raw), the Bradley-Terry probability that this answer beats one whose
 * raw score is 0. Differences between two answers' scores are largest near 0.5 and shrink as both saturate,
 * so pairwiseFromScorer's tieMargin (default 0.02) is about 0.08 in raw logit near the middle. `raw` keeps
 * the logit for logs and for comparisons that want its full range.
 */
export function rmScore(raw: number): QualityScore {
  return { score: 1 / (1 + Math.exp(-raw)), raw };
}

/** Row indices in micro-batches of at most `batchSize`, longest first, so each batch pads little. */
export function lengthBatches(lengths: readonly number[], batchSize: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}

/** Rows right-padded with `padId` into a flat (B, T) batch; lengths (B,) are the rows' own lengths. */
export function rightPad(rows: readonly (readonly number[])[], padId: number): { ids: number[]; B: number; T: number; lengths: number[] } {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.length));
  const ids = new Array<number>(B * T).fill(padId); // (B, T)
  rows.forEach((r, b) => r.forEach((id, t) => (ids[b * T + t] = id)));
  return { ids, B, T, lengths: rows.map((r) => r.length) };
}

/**
 * Score token rows (N,) in length-sorted micro-batches: `forward` gets a batch of rows and returns one raw
 * logit per row. Results come back in the rows' order; the signal is checked between batches.
 */
export async function scoreRows(
  rows: readonly number[][],
  batchSize: number,
  forward: (batch: readonly number[][]) => Promise<ArrayLike<number>>,
  signal?: AbortSignal,
): Promise<QualityScore[]> {
  const out = new Array<QualityScore>(rows.length);
  for (const idx of lengthBatches(
    rows.map((r) => r.length),
    batchSize,
  )) {
    signal?.throwIfAborted();
    const raw = await forward(idx.map((i) => rows[i]));
    if (raw.length !== idx.length) throw new Error(`reward model returned ${raw.length} scores for a batch of ${idx.length}`);
    idx.forEach((i, k) => (out[i] = rmScore(raw[k])));
  }
  return out;
}

const WHOLE_FILE = 4 << 20;
const SAMPLE_BYTES = 64 << 10;
const SAMPLES = 16;

/**
 * 12 hex digits identifying the files' contents: sha256 over each file's name, size and bytes (the whole file
 * up to 4 MiB; above that 16 evenly spaced 64 KiB samples, first and last included, so fingerprinting a
 * multi-GB checkpoint reads 1 MiB). A copied or moved checkpoint keeps its fingerprint; retraining changes
 * every tensor, so the samples change.
 */
export function fileFingerprint(paths: readonly string[]): string {
  const h = createHash('sha256');
  const sorted = [...new Set(paths)].sort((a, b) => basename(a).localeCompare(basename(b)) || a.localeCompare(b));
  for (const p of sorted) {
    const fd = openSync(p, 'r');
    try {
      const size = fstatSync(fd).size;
      h.update(`${basename(p)}\0${size}\0`);
      const n = size <= WHOLE_FILE ? 1 : SAMPLES;
      const len = size <= WHOLE_FILE ? size : SAMPLE_BYTES;
      const buf = Buffer.alloc(len);
      for (let k = 0; k < n; k++) {
        const at = n === 1 ? 0 : Math.floor((k * (size - len)) / (n - 1));
        const got = readSync(fd, buf, 0, len, at);
        h.update(buf.subarray(0, got));
      }
    } finally {
      closeSync(fd);
    }
  }
  return h.digest('hex').slice(0, 12);
}

/**
 * Marks the scores of answers a reward model read only in part (longer than its window: their tail never counts)
 * with `truncated`, and says so once per scorer on stderr, the first time a batch holds any: a 2k-token RM scoring
 * 10k-token answers judges their openings, which nothing else would show.
 */
export class CutNotice {
  private said = false;
  constructor(
    private readonly who: string,
    private readonly maxTokens: number,
    private readonly warn: (line: string) => void = (line) => console.warn(line),
  ) {}

  mark(scores: QualityScore[], inputs: readonly RmInput[]): QualityScore[] {
    const cut = inputs.filter((x) => x.cut).length;
    if (cut === 0) return scores;
    if (!this.said) {
      this.said = true;
      this.warn(
        `note: ${this.who}: ${cut} of ${inputs.length} answers are longer than its window of ${this.maxTokens} tokens and are scored on ` +
          'their first part only (said once; GRPO logs the share as quality/truncated, score-rewards marks them quality_truncated). ' +
          "Raise the scorer's maxTokens, up to the model's context, or use a reward model with a longer one",
      );
    }
    return scores.map((s, i) => (inputs[i].cut ? { ...s, truncated: true } : s));
  }
}
