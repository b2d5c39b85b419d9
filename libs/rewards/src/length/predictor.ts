// The length predictor interface (a prompt with no explicit requirement gets its target range from one) and
// the paper's rules for predicted ranges: bounds in multiples of 100 words, hi <= 12,000, hi - lo <= 3,000,
// [0, 0] = the request cannot be met (the prompt is skipped in training). An LLM predictor over HTTP
// (libs/judges) and the offline built-in one (builtin-predictor.ts) implement it; nothing here does I/O.
import type { WordRange } from './range-rule';

export interface LengthPrediction {
  /** target words [lo, hi]; [0, 0] = cannot be fulfilled */
  range: WordRange;
  /** the predictor had no usable range for this prompt and `range` is its stand-in (the llm predictor's "builtin" fallback) */
  fallback?: boolean;
}

export interface LengthPredictor {
  /** stable id for caches and logs; changes whenever the predictions could change (model, prompt text version) */
  readonly id: string;
  /** One prediction per prompt, in order. Batched: callers pass each distinct prompt once. */
  predict(prompts: readonly string[], options?: { signal?: AbortSignal }): Promise<LengthPrediction[]>;
}

export interface RangeRules {
  /** both bounds are multiples of this many words */
  step: number;
  /** largest allowed hi */
  maxHi: number;
  /** largest allowed hi - lo */
  maxWidth: number;
}

/** The paper's rules for a predicted range. */
export const PAPER_RANGE_RULES: RangeRules = { step: 100, maxHi: 12000, maxWidth: 3000 };

export const isSkipRange = (r: WordRange): boolean => r[0] === 0 && r[1] === 0;

/** Why `range` breaks the rules, or null when it follows them ([0, 0] always does). */
export function rangeRuleViolation(range: unknown, rules: RangeRules = PAPER_RANGE_RULES): string | null {
  if (!Array.isArray(range) || range.length !== 2 || !range.every((x) => typeof x === 'number' && Number.isInteger(x))) {
    return `"range" must be two integers [lo, hi], got ${JSON.stringify(range)}`;
  }
  const [lo, hi] = range as number[];
  if (lo === 0 && hi === 0) return null;
  if (lo < 0 || hi <= lo) return `[${lo}, ${hi}]: need 0 <= lo < hi (or [0, 0] for a request that cannot be met)`;
  if (lo % rules.step !== 0 || hi % rules.step !== 0) return `[${lo}, ${hi}]: both bounds must be multiples of ${rules.step}`;
  if (hi > rules.maxHi) return `[${lo}, ${hi}]: hi must be at most ${rules.maxHi}`;
  if (hi - lo > rules.maxWidth) return `[${lo}, ${hi}]: hi - lo must be at most ${rules.maxWidth}`;
  return null;
}

/**
 * The nearest range that follows the rules: lo down and hi up to the step (hi at least one step), a range
 * wider than maxWidth narrowed around its centre, a range above maxHi shifted down to end at maxHi (keeping
 * its width: "50 pages" asks for the longest answer allowed), at least one step wide.
 */
export function snapToRules(lo: number, hi: number, rules: RangeRules = PAPER_RANGE_RULES): WordRange {
  const s = rules.step;
  let a = Math.max(0, Math.floor(lo / s) * s);
  let b = Math.max(s, Math.ceil(hi / s) * s);
  const width = Math.floor(rules.maxWidth / s) * s;
  if (b - a > width) {
    const centre = Math.round((a + b) / 2 / s) * s;
    a = Math.max(0, centre - Math.floor(width / 2 / s) * s);
    b = a + width;
  }
  if (b > rules.maxHi) {
    a = Math.max(0, a - (b - rules.maxHi));
    b = rules.maxHi;
  }
  if (a >= b) a = Math.max(0, b - s);
  return [a, b];
}
