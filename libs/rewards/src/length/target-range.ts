// Target word range per prompt, one rule in one place: the row's own `length_range` wins; else the prompt's
// explicit requirement (requirement.ts); else the row's required `length` (LongBench-Write rows carry one, in
// words or, for Chinese, characters: "about N", [0.9N, 1.1N]); else the length predictor, asked once per distinct
// prompt. The wording comes before `length` so a prompt's own range ("between 300 and 500 words") keeps its
// bounds; `length` answers the prompts whose wording states none the parser takes (a length per part with no count
// of parts: 每篇400字 in "several" pieces). A range of [0, 0] marks a prompt that cannot be fulfilled: its samples are
// skipped in training.
import type { LengthPredictor } from './predictor';
import { isSkipRange } from './predictor';
import { lengthRangeFor, type WordRange } from './range-rule';
import { parseLengthRequirement } from './requirement';

export type TargetSource = 'row' | 'prompt' | 'length' | 'predictor';

export interface TargetRange {
  range: WordRange;
  source: TargetSource;
  /** the range is [0, 0]: no length target can be met, leave the prompt out of training */
  skip: boolean;
  /** the predictor had no usable range and this is its stand-in (LengthPrediction.fallback) */
  fallback?: true;
}

export interface TargetRow {
  prompt: string;
  length_range?: unknown;
  /** a required length (LongBench-Write's field); used only when it is a positive number */
  length?: unknown;
}

/** Checks a range given as data: [lo, hi] with 0 <= lo <= hi, finite. Throws naming `field`. */
export function checkWordRange(value: unknown, field: string): WordRange {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new Error(`field "${field}" must be [lo, hi] (two numbers of words), got ${JSON.stringify(value)}`);
  }
  const [lo, hi] = value as number[];
  if (lo < 0 || hi < lo) throw new Error(`field "${field}" must satisfy 0 <= lo <= hi, got [${lo}, ${hi}]`);
  return [lo, hi];
}

/** The row's or the prompt's own range, without a predictor; null when neither gives one. */
export function explicitTargetRange(row: TargetRow): TargetRange | null {
  if (row.length_range !== undefined && row.length_range !== null) {
    const range = checkWordRange(row.length_range, 'length_range');
    return { range, source: 'row', skip: isSkipRange(range) };
  }
  const parsed = parseLengthRequirement(row.prompt);
  if (parsed) return { range: parsed.range, source: 'prompt', skip: isSkipRange(parsed.range) };
  const n = row.length;
  if (typeof n === 'number' && Number.isFinite(n) && n > 0) return { range: lengthRangeFor('about', n), source: 'length', skip: false };
  return null;
}

/** Target ranges of a batch of rows (B*G,), in order; the predictor sees each distinct unresolved prompt once. */
export async function resolveTargetRanges(rows: readonly TargetRow[], predictor: LengthPredictor): Promise<TargetRange[]> {
  const out: (TargetRange | null)[] = rows.map((row, i) => {
    try {
      return explicitTargetRange(row);
    } catch (e) {
      throw new Error(`row ${i}: ${(e as Error).message}`);
    }
  });
  const pending = [...new Set(rows.filter((_, i) => out[i] === null).map((r) => r.prompt))];
  if (pending.length > 0) {
    const predictions = await predictor.predict(pending);
    if (!Array.isArray(predictions) || predictions.length !== pending.length) {
      throw new Error(`length predictor ${predictor.id} returned ${predictions?.length} predictions for ${pending.length} prompts`);
    }
    const byPrompt = new Map<string, TargetRange>();
    pending.forEach((p, k) => {
      const range = checkWordRange(predictions[k]?.range, `predictions[${k}].range (${predictor.id})`);
      byPrompt.set(p, { range, source: 'predictor', skip: isSkipRange(range), ...(predictions[k].fallback ? { fallback: true } : {}) });
    });
    rows.forEach((row, i) => {
      if (out[i] === null) out[i] = byPrompt.get(row.prompt) as TargetRange;
    });
  }
  return out as TargetRange[];
}
