// Bradley-Terry ratings and intervals against an independent fit written here: iteratively reweighted least
// squares on an explicit design matrix (one row per battle, ties as a half win plus a half loss, Gaussian
// elimination), on synthetic battles drawn from known strengths. Tolerance: 1 Elo point (the plain fits also agree to 1e-4).
import { Rng } from '@lwz/core';
import { bootstrapPlan, quantile } from './bootstrap';
import { fitBradleyTerry, solveSpd, toElo, ELO_PER_LOGIT, type Battle } from './bradley-terry';
import { lengthCovariate, rateBattles } from './ratings';

/** Solve A x = b by Gaussian elimination with partial pivoting (A is copied). */
function gaussSolve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

/**
 * Independent logistic regression. Columns: one per player (player `ref` dropped when ridge is 0, so the
 * unpenalised problem is identified), then the covariate. Returns log-odds strengths (ref = 0 when dropped).
 */
function irls(battles: readonly Battle[], players: number, ridge: number, covariate: boolean): { beta: number[]; gamma: number } {
  const ref = 0;
  const cols = Array.from({ length: players }, (_, p) => p).filter((p) => ridge > 0 || p !== ref);
  const D = cols.length + (covariate ? 1 : 0);
  const X: number[][] = [];
  const y: number[] = [];
  const w: number[] = [];
  for (const t of battles) {
    const row: number[] = cols.map((p) => (p === t.a ? 1 : p === t.b ? -1 : 0));
    if (covariate) row.push(t.x ?? 0);
    if (t.scoreA === 0.5) {
      X.push(row, row);
      y.push(1, 0);
      w.push(0.5, 0.5);
    } else {
      X.push(row);
      y.push(t.scoreA);
      w.push(1);
    }
  }
  let theta = new Array<number>(D).fill(0);
  for (let it = 0; it < 50; it++) {
    const A = Array.from({ length: D }, (_, i) => Array.from({ length: D }, (_, j) => (i === j ? ridge : 0)));
    const g = theta.map((t) => -ridge * t);
    X.forEach((row, n) => {
      const z = row.reduce((s, v, j) => s + v * theta[j], 0);
      const p = 1 / (1 + Math.exp(-z));
      for (let i = 0; i < D; i++) {
        g[i] += w[n] * (y[n] - p) * row[i];
        for (let j = 0; j < D; j++) A[i][j] += w[n] * p * (1 - p) * row[i] * row[j];
      }
    });
    const step = gaussSolve(A, g);
    theta = theta.map((t, i) => t + step[i]);
    if (Math.max(...step.map(Math.abs)) < 1e-12) break;
  }
  const beta = new Array<number>(players).fill(0);
  cols.forEach((p, j) => (beta[p] = theta[j]));
  return { beta, gamma: covariate ? theta[cols.length] : 0 };
}

const TRUE_ELO = [1200, 1100, 1000, 950, 800];

/** Every pair in both orders on each prompt; outcomes from the true strengths (+ gamma * x) with 15 % ties. */
function synthetic(prompts: number, seed: number, gammaLogit = 0): { byPrompt: Battle[][]; words: number[][] } {
  const rng = new Rng(seed);
  const P = TRUE_ELO.length;
  const byPrompt: Battle[][] = [];
  const words: number[][] = [];
  for (let q = 0; q < prompts; q++) {
    const len = TRUE_ELO.map(() => 200 + rng.int(1800));
    words.push(len);
    const battles: Battle[] = [];
    for (let a = 0; a < P; a++)
      for (let b = 0; b < P; b++) {
        if (a === b) continue;
        const x = lengthCovariate(len[a], len[b]);
        const z = (TRUE_ELO[a] - TRUE_ELO[b]) / ELO_PER_LOGIT + gammaLogit * x;
        // ties 15 %; the win chance otherwise is set so A's expected score stays sigmoid(z), as the model says
        const pWin = (1 / (1 + Math.exp(-z)) - 0.5 * 0.15) / 0.85;
        const scoreA = rng.next() < 0.15 ? 0.5 : rng.next() < pWin ? 1 : 0;
        battles.push({ a, b, scoreA, x });
      }
    byPrompt.push(battles);
  }
  return { byPrompt, words };
}

describe('Bradley-Terry fit', () => {
  const { byPrompt } = synthetic(120, 7);
  const all = byPrompt.flat();
  const names = TRUE_ELO.map((_, i) => `m${i}`);

  it('matches an independent unpenalised IRLS fit within 1 Elo, and recovers the true strengths', () => {
    const ours = toElo(fitBradleyTerry(all, { players: 5, l2: 0 }).beta);
    const ref = toElo(irls(all, 5, 0, false).beta);
    ours.forEach((r, i) => expect(Math.abs(r - ref[i])).toBeLessThan(1));
    expect(Math.max(...ours.map((r, i) => Math.abs(r - ref[i])))).toBeLessThan(1e-4);
    const truth = toElo(TRUE_ELO.map((e) => e / ELO_PER_LOGIT));
    ours.forEach((r, i) => expect(Math.abs(r - truth[i])).toBeLessThan(45));
  });

  it('matches the independent ridge fit with an anchor, and the length-controlled fit with its covariate', () => {
    const ridge = 1e-3;
    const anchored = toElo(fitBradleyTerry(all, { players: 5 }).beta, 2);
    const refAnchored = toElo(irls(all, 5, ridge, false).beta, 2);
    expect(anchored[2]).toBe(1000);
    anchored.forEach((r, i) => expect(Math.abs(r - refAnchored[i])).toBeLessThan(1));
    const lc = synthetic(120, 11, 1.5).byPrompt.flat();
    const ours = fitBradleyTerry(lc, { players: 5, covariate: true, l2: 0 });
    const ref = irls(lc, 5, 0, true);
    toElo(ours.beta).forEach((r, i) => expect(Math.abs(r - toElo(ref.beta)[i])).toBeLessThan(1));
    expect(Math.abs(ours.gamma - ref.gamma) * ELO_PER_LOGIT).toBeLessThan(1);
    expect(ours.gamma).toBeGreaterThan(0.8); // the planted length preference (1.5) is found
    expect(ours.converged).toBe(true);
  });

  it('bootstrap intervals equal independent refits of the same resamples, and cover the truth', () => {
    const resamples = 100;
    const r = rateBattles(byPrompt, { players: names, resamples, seed: 5, l2: 0 });
    const plan = bootstrapPlan(byPrompt.length, resamples, 5);
    const refSamples = plan.map((draw) =>
      toElo(
        irls(
          draw.flatMap((i) => byPrompt[i]),
          5,
          0,
          false,
        ).beta,
      ),
    );
    const truth = toElo(TRUE_ELO.map((e) => e / ELO_PER_LOGIT));
    r.plain.ratings.forEach((p, i) => {
      const col = refSamples.map((s) => s[i]);
      expect(Math.abs(p.low - quantile(col, 0.025))).toBeLessThan(1);
      expect(Math.abs(p.high - quantile(col, 0.975))).toBeLessThan(1);
      expect(p.low).toBeLessThan(p.rating);
      expect(p.high).toBeGreaterThan(p.rating);
      expect(p.high - p.low).toBeLessThan(120);
      expect(truth[i]).toBeGreaterThan(p.low - 15);
      expect(truth[i]).toBeLessThan(p.high + 15);
    });
    const again = rateBattles(byPrompt, { players: names, resamples, seed: 5, l2: 0 });
    expect(again).toEqual(r);
  });

  it('stays finite when a player wins everything (the ridge), and rejects bad input', () => {
    const sweep: Battle[] = [];
    for (let k = 0; k < 10; k++) sweep.push({ a: 0, b: 1, scoreA: 1 }, { a: 1, b: 0, scoreA: 0 }, { a: 1, b: 2, scoreA: 0.5 });
    const fit = fitBradleyTerry(sweep, { players: 3 });
    expect(fit.converged).toBe(true);
    expect(fit.beta.every(Number.isFinite)).toBe(true);
    expect(fit.beta[0]).toBeGreaterThan(fit.beta[1] + 3);
    expect(() => fitBradleyTerry([{ a: 0, b: 0, scoreA: 1 }], { players: 2 })).toThrow(/bad battle players 0 vs 0/);
    expect(() => rateBattles([sweep], { players: ['a', 'b', 'c'], anchor: 'z' })).toThrow(/anchor "z" is not a player; players: a, b, c/);
  });

  it('puts 400 Elo between odds of 10 to 1, counts a battle of weight w as w battles, and shrinks little with the default ridge', () => {
    // x beats y in 10 of 11 (two battles of weight 5 and a loss): unpenalised, e^(beta_x - beta_y) = 10, 400 Elo apart
    const battles: Battle[] = [
      { a: 0, b: 1, scoreA: 1, weight: 5 },
      { a: 0, b: 1, scoreA: 1, weight: 5 },
      { a: 0, b: 1, scoreA: 0 },
    ];
    const [x, y] = toElo(fitBradleyTerry(battles, { players: 2, l2: 0 }).beta);
    expect(x - y).toBeCloseTo(400, 6);
    expect(x + y).toBeCloseTo(2000, 6); // the mean is rated 1000
    // the default ridge (1e-3) moves it by about 0.5 Elo here: d (10 - 11 sigma(d)) / dd = 11 sigma (1 - sigma) = 0.91,
    // the ridge's pull l2 d / 2 = 1.2e-3 -> 1.3e-3 logits
    const [xr, yr] = toElo(fitBradleyTerry(battles, { players: 2 }).beta);
    expect(x - y - (xr - yr)).toBeGreaterThan(0);
    expect(x - y - (xr - yr)).toBeLessThan(1);
  });

  it('reads quantiles with linear interpolation (numpy default) and the length covariate as A longer = positive', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantile([0, 10], 0.25)).toBeCloseTo(2.5, 12);
    expect(quantile([0, 10, 20], 0.975)).toBeCloseTo(19.5, 12);
    expect(lengthCovariate(300, 100)).toBeCloseTo(0.5, 12);
    expect(lengthCovariate(100, 300)).toBeCloseTo(-0.5, 12);
    expect(lengthCovariate(0, 0)).toBe(0);
  });

  it('bounds a player that ties but never loses; a sweep is unbounded on its side only', () => {
    // one prompt, so every resample is that prompt and each interval is the rating itself
    const one = (battles: Battle[]) => rateBattles([battles], { players: ['x', 'y'], resamples: 20 }).plain.ratings;
    for (const p of one([
      { a: 0, b: 1, scoreA: 1 },
      { a: 1, b: 0, scoreA: 0.5 },
    ])) {
      expect(p.low).toBeCloseTo(p.rating, 9);
      expect(p.high).toBeCloseTo(p.rating, 9);
    }
    const [x, y] = one([
      { a: 0, b: 1, scoreA: 1 },
      { a: 1, b: 0, scoreA: 0 },
    ]);
    expect([x.low, x.high, y.low, y.high]).toEqual([expect.closeTo(x.rating, 9), Infinity, -Infinity, expect.closeTo(y.rating, 9)]);
  });

  it("marks an interval's end unbounded where >= 2.5 % of resamples have a player win (lose) every battle: the ridge, not the data, sets it", () => {
    // 24 prompts, rl beats base on 21 and loses 3: (21/24)^24 = 4 % of resamples hold no rl loss
    const prompts: Battle[][] = Array.from({ length: 24 }, (_, k) => [{ a: 0, b: 1, scoreA: k < 3 ? 1 : 0 }]);
    const r = rateBattles(prompts, { players: ['base', 'rl'], anchor: 'base', resamples: 400, seed: 1 });
    const [base, rl] = r.plain.ratings;
    expect(rl.high).toBe(Infinity);
    expect(Number.isFinite(rl.low) && rl.low > 1000).toBe(true); // a loss in almost every resample: a finite lower end
    expect([base.low, base.high]).toEqual([1000, 1000]); // the anchor
    // with every prompt's result split, no resample sweeps: both ends finite
    const mixed = prompts.map((b, k) => [...b, { a: 0, b: 1, scoreA: k % 2 }]);
    const m = rateBattles(mixed, { players: ['base', 'rl'], anchor: 'base', resamples: 400, seed: 1 }).plain.ratings[1];
    expect(Number.isFinite(m.low) && Number.isFinite(m.high)).toBe(true);
  });
});

describe('Bradley-Terry: input checks, the reported likelihood, and interval edges', () => {
  it('rejects scores outside [0, 1], a negative ridge, an anchor that is no player, and a singular system', () => {
    expect(() => fitBradleyTerry([{ a: 0, b: 1, scoreA: 1.5 }], { players: 2 })).toThrow(/scoreA must be in \[0, 1\], got 1.5/);
    expect(() => fitBradleyTerry([{ a: 0, b: 1, scoreA: 1 }], { players: 2, l2: -0.5 })).toThrow(/l2 must be >= 0, got -0.5/);
    expect(() => toElo([0, 1], 2)).toThrow(/Elo anchor 2 is not a player index/);
    // [[1, 1], [1, 1]] is singular (second pivot 0): no solution to report
    expect(() =>
      solveSpd(
        [
          [1, 1],
          [1, 1],
        ],
        [1, 1],
      ),
    ).toThrow(/not positive definite \(pivot 1 = 0\)/);
    // by hand: [[4, 2], [2, 3]] x = [2, 5] -> x = [-0.5, 2]
    const x = solveSpd(
      [
        [4, 2],
        [2, 3],
      ],
      [2, 5],
    );
    expect(x[0]).toBeCloseTo(-0.5, 12);
    expect(x[1]).toBeCloseTo(2, 12);
  });

  it('reports the penalised log-likelihood at its maximum, as a one-dimensional maximisation finds it (1e-8)', () => {
    // x beats y 10 times in 11 (two battles of weight 5, one loss); d = beta_x - beta_y, beta = (d/2, -d/2), so
    // f(d) = 10 log sigmoid(d) + log(1 - sigmoid(d)) - l2/2 ((d/2)^2 + (d/2)^2), so f'(d) = 10 - 11 sigmoid(d) - l2 d / 2
    const battles: Battle[] = [
      { a: 0, b: 1, scoreA: 1, weight: 5 },
      { a: 0, b: 1, scoreA: 1, weight: 5 },
      { a: 0, b: 1, scoreA: 0 },
    ];
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    for (const l2 of [0, 0.5]) {
      let [lo, hi] = [0, 10]; // f' > 0 at 0, < 0 at 10
      for (let k = 0; k < 200; k++) {
        const mid = (lo + hi) / 2;
        if (10 - 11 * sig(mid) - (l2 * mid) / 2 > 0) lo = mid;
        else hi = mid;
      }
      const d = (lo + hi) / 2;
      const f = 10 * Math.log(sig(d)) + Math.log(1 - sig(d)) - (l2 * d * d) / 4;
      const fit = fitBradleyTerry(battles, { players: 2, l2 });
      expect(Math.abs(fit.beta[0] - fit.beta[1] - d)).toBeLessThan(1e-8);
      expect(Math.abs(fit.logLikelihood - f)).toBeLessThan(1e-8);
    }
    // unpenalised, the maximum is at odds 10:1: log L = 10 log(10/11) + log(1/11)
    expect(fitBradleyTerry(battles, { players: 2, l2: 0 }).logLikelihood).toBeCloseTo(10 * Math.log(10 / 11) + Math.log(1 / 11), 9);
  });

  it('reads q = 0 and q = 1 as the smallest and largest value, and needs at least one resample', () => {
    expect(quantile([3, 1, 2], 1)).toBe(3);
    expect(quantile([3, 1, 2], 0)).toBe(1);
    expect(() => bootstrapPlan(3, 0, 1)).toThrow(/resamples must be a positive integer, got 0/);
  });

  it('gives the length coefficient in Elo per unit of x (400 / ln 10 per logit), and 100 resamples by default', () => {
    const lc = synthetic(60, 11, 1.5).byPrompt;
    const r = rateBattles(lc, { players: TRUE_ELO.map((_, i) => `m${i}`), l2: 0, lengthControl: true, resamples: 10 });
    const ref = irls(lc.flat(), 5, 0, true);
    expect(Math.abs((r.lengthControlled?.gamma?.value as number) - (ref.gamma * 400) / Math.LN10)).toBeLessThan(1);
    expect(rateBattles([[{ a: 0, b: 1, scoreA: 1 }]], { players: ['x', 'y'] }).resamples).toBe(100);
  });

  it('marks the end unbounded when exactly 2.5 % of the resamples sweep (1 of 40)', () => {
    // rl loses the first 3 of 24 prompts and wins the rest; it sweeps a resample that draws none of those 3
    const prompts: Battle[][] = Array.from({ length: 24 }, (_, k) => [{ a: 0, b: 1, scoreA: k < 3 ? 1 : 0 }]);
    const sweeps = bootstrapPlan(24, 40, 0).filter((draw) => draw.every((i) => i >= 3)).length;
    expect(sweeps).toBe(1);
    const [, rl] = rateBattles(prompts, { players: ['base', 'rl'], anchor: 'base', resamples: 40, seed: 0 }).plain.ratings;
    expect(rl.high).toBe(Infinity);
    expect(Number.isFinite(rl.low)).toBe(true);
  });
});
