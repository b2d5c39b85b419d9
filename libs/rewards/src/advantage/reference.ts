// Loop references for the advantage estimators and reward combinations, written over nested (B, G) rows
// (rows may differ in length) with the plain textbook formulas and no shared code with the vectorised
// versions. Tests only: slow and obvious on purpose.
import type { EstimatorOptions } from './estimators';

export type Rows = number[][]; // (B, G): rewards of each prompt group

function meanOf(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

function stdOf(xs: number[], ddof: number): number {
  const m = meanOf(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - ddof));
}

const allEqual = (xs: number[]) => xs.every((x) => x === xs[0]);

export function referenceAdvantages(name: string, rows: Rows, o: EstimatorOptions): Rows {
  return rows.map((row) => {
    if (allEqual(row)) return row.map(() => 0);
    const m = meanOf(row);
    if (name === 'grpo') {
      const sd = stdOf(row, o.std === 'sample' ? 1 : 0);
      return row.map((r) => (r - m) / (sd + o.eps));
    }
    if (name === 'dr-grpo') return row.map((r) => r - m);
    if (name === 'rloo') {
      return row.map((r, i) => {
        const others = row.filter((_, j) => j !== i);
        return r - meanOf(others);
      });
    }
    throw new Error(`no reference for ${name}`);
  });
}

/** Each reward's rows (K x (B, G)) -> combined advantage rows (B, G). */
export function referenceCombination(
  name: string,
  rewards: Record<string, Rows>,
  weights: Record<string, number>,
  estimator: string,
  o: EstimatorOptions,
  batchEps: number,
): Rows {
  const names = Object.keys(rewards).filter((k) => weights[k] > 0);
  const wsum = names.reduce((s, k) => s + weights[k], 0);
  const shape = rewards[names[0]];
  if (name === 'advantage-average') {
    const perReward = names.map((k) => referenceAdvantages(estimator, rewards[k], o));
    return shape.map((row, b) => row.map((_, g) => names.reduce((s, k, j) => s + weights[k] * perReward[j][b][g], 0) / wsum));
  }
  if (name === 'sum-then-normalize') {
    const summed = shape.map((row, b) => row.map((_, g) => names.reduce((s, k) => s + weights[k] * rewards[k][b][g], 0) / wsum));
    return referenceAdvantages(estimator, summed, o);
  }
  if (name === 'normalize-then-weighted-sum') {
    const z: Record<string, Rows> = {};
    for (const k of names) {
      const flat = rewards[k].flat();
      const m = meanOf(flat);
      const sd = stdOf(flat, 0);
      z[k] = rewards[k].map((row) => row.map((r) => (allEqual(flat) ? 0 : (r - m) / (sd + batchEps))));
    }
    const summed = shape.map((row, b) => row.map((_, g) => names.reduce((s, k) => s + weights[k] * z[k][b][g], 0) / wsum));
    return referenceAdvantages(estimator, summed, o);
  }
  throw new Error(`no reference for ${name}`);
}
