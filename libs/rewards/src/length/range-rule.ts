// The one rule that turns an explicit length requirement into a target word range [lo, hi]: the paper's +-10 %
// around a stated length, the stated bound plus 10 % on the open side of "at least" / "at most", the stated
// range as written. Used by the prompt parser here and by libs/data's prompt generator, so a generated row's
// `length_range` is what parsing its own prompt gives. Bounds are rounded to whole words (Math.round).

/** How a prompt states its length: `exact` "a 500-word essay", `about` "about 500 words", `at-least`,
 *  `at-most`, `range` "500-800 words". (The same names as libs/data's generated `length_form`.) */
export type LengthForm = 'exact' | 'about' | 'at-least' | 'at-most' | 'range';
export const LENGTH_FORMS: readonly LengthForm[] = ['exact', 'about', 'at-least', 'at-most', 'range'];

/** A target word range [lo, hi]; [0, 0] means the request cannot be met (the prompt is skipped in training). */
export type WordRange = [number, number];

/**
 * exact / about N -> [0.9N, 1.1N]; at least N -> [N, 1.1N]; at most N -> [0.9N, N]; N..M -> [min, max].
 * Departure from the paper: it states +-10 % for explicit requirements without spelling out one-sided bounds;
 * we keep the stated bound and give 10 % on the other side, so "at least 500" is not rewarded at 450.
 */
export function lengthRangeFor(form: LengthForm, n: number, m?: number): WordRange {
  if (!(Number.isFinite(n) && n >= 0)) throw new Error(`length requirement ${n}: expected a non-negative number of words`);
  switch (form) {
    case 'exact':
    case 'about':
      return [Math.round(0.9 * n), Math.round(1.1 * n)];
    case 'at-least':
      return [Math.round(n), Math.round(1.1 * n)];
    case 'at-most':
      return [Math.round(0.9 * n), Math.round(n)];
    case 'range': {
      if (m === undefined || !(Number.isFinite(m) && m >= 0)) throw new Error(`range requirement ${n}..${m}: expected two word counts`);
      return [Math.round(Math.min(n, m)), Math.round(Math.max(n, m))];
    }
    default:
      throw new Error(`unknown length form ${form satisfies never}`);
  }
}
