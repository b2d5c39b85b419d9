// Bradley-Terry by maximum likelihood: P(A beats B) = sigmoid(beta_A - beta_B [+ gamma * x]), fitted by
// Newton's method on the weighted logistic log-likelihood, ties counting as half a win (target 0.5). `x` is
// an optional per-battle covariate (the length-controlled fit uses the answers' relative length difference),
// whose coefficient gamma absorbs the judge's length preference. A small ridge (l2, default 1e-3) keeps a
// player that won or lost everything finite (bootstrap resamples do that); a sum-to-zero term fixes the
// shift that the likelihood cannot see. Elo: 400-point base-10 scale, anchored to a player or the mean.
// Identical battles are merged first, so the cost per Newton step is O(distinct battles * players).
//
// Shapes: P players, K distinct battles, D = P (+1 with a covariate) parameters; H is (D, D).

export interface Battle {
  /** player indices, A shown first */
  a: number;
  b: number;
  /** A's result: 1 win, 0.5 tie, 0 loss (any value in [0, 1]) */
  scoreA: number;
  /** default 1 */
  weight?: number;
  /** covariate for the length-controlled fit */
  x?: number;
}

export interface BtOptions {
  players: number;
  /** ridge on every parameter, in log-odds units (default 1e-3) */
  l2?: number;
  /** fit gamma on the battles' `x` (default false) */
  covariate?: boolean;
  maxIterations?: number;
  /** stop when the largest Newton step is below this (default 1e-10) */
  tolerance?: number;
}

export interface BtFit {
  /** (P,) log-odds strengths, summing to zero */
  beta: number[];
  /** the covariate's coefficient (0 without one) */
  gamma: number;
  iterations: number;
  converged: boolean;
  /** the penalised log-likelihood at the fit */
  logLikelihood: number;
}

interface Merged {
  a: number;
  b: number;
  x: number;
  /** total weight and weighted score of A */
  w: number;
  wy: number;
}

function merge(battles: readonly Battle[], covariate: boolean): Merged[] {
  const byKey = new Map<string, Merged>();
  for (const t of battles) {
    const x = covariate ? (t.x ?? 0) : 0;
    const w = t.weight ?? 1;
    const key = `${t.a},${t.b},${x}`;
    const m = byKey.get(key);
    if (m) {
      m.w += w;
      m.wy += w * t.scoreA;
    } else byKey.set(key, { a: t.a, b: t.b, x, w, wy: w * t.scoreA });
  }
  return [...byKey.values()];
}

const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Solve H d = g for symmetric positive definite H (D, D) by Cholesky; H is overwritten. */
export function solveSpd(H: number[][], g: number[]): number[] {
  const n = g.length;
  for (let j = 0; j < n; j++) {
    let s = H[j][j];
    for (let k = 0; k < j; k++) s -= H[j][k] * H[j][k];
    if (!(s > 0)) throw new Error(`Bradley-Terry: the Hessian is not positive definite (pivot ${j} = ${s})`);
    H[j][j] = Math.sqrt(s);
    for (let i = j + 1; i < n; i++) {
      let t = H[i][j];
      for (let k = 0; k < j; k++) t -= H[i][k] * H[j][k];
      H[i][j] = t / H[j][j];
    }
  }
  const y = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let t = g[i];
    for (let k = 0; k < i; k++) t -= H[i][k] * y[k];
    y[i] = t / H[i][i];
  }
  const d = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let t = y[i];
    for (let k = i + 1; k < n; k++) t -= H[k][i] * d[k];
    d[i] = t / H[i][i];
  }
  return d;
}

export function fitBradleyTerry(battles: readonly Battle[], options: BtOptions): BtFit {
  const P = options.players;
  const l2 = options.l2 ?? 1e-3;
  const covariate = options.covariate ?? false;
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-10;
  if (!(Number.isInteger(P) && P >= 1)) throw new Error(`Bradley-Terry: players must be a positive integer, got ${P}`);
  if (!(l2 >= 0)) throw new Error(`Bradley-Terry: l2 must be >= 0, got ${l2}`);
  for (const t of battles) {
    if (!(t.a >= 0 && t.a < P && t.b >= 0 && t.b < P && t.a !== t.b)) throw new Error(`Bradley-Terry: bad battle players ${t.a} vs ${t.b}`);
    if (!(t.scoreA >= 0 && t.scoreA <= 1)) throw new Error(`Bradley-Terry: scoreA must be in [0, 1], got ${t.scoreA}`);
  }
  const rows = merge(battles, covariate);
  const D = P + (covariate ? 1 : 0);
  const theta = new Array<number>(D).fill(0); // (D,): beta then gamma

  const objective = (th: readonly number[]): number => {
    let ll = 0;
    for (const r of rows) {
      const z = th[r.a] - th[r.b] + (covariate ? th[P] * r.x : 0);
      ll += r.wy * z - r.w * softplus(z);
    }
    let sq = 0;
    let sum = 0;
    for (let i = 0; i < D; i++) sq += th[i] * th[i];
    for (let i = 0; i < P; i++) sum += th[i];
    return ll - 0.5 * l2 * sq - 0.5 * sum * sum;
  };

  let iterations = 0;
  let converged = false;
  let current = objective(theta);
  while (iterations < maxIterations) {
    iterations++;
    const g = new Array<number>(D).fill(0); // (D,) gradient of the penalised log-likelihood
    const H = Array.from({ length: D }, () => new Array<number>(D).fill(0)); // (D, D) its negative Hessian
    for (const r of rows) {
      const z = theta[r.a] - theta[r.b] + (covariate ? theta[P] * r.x : 0);
      const p = sigmoid(z);
      const resid = r.wy - r.w * p;
      const h = r.w * p * (1 - p);
      // feature vector: +1 at a, -1 at b, x at gamma
      const idx = covariate ? [r.a, r.b, P] : [r.a, r.b];
      const val = covariate ? [1, -1, r.x] : [1, -1];
      for (let u = 0; u < idx.length; u++) {
        g[idx[u]] += resid * val[u];
        for (let v = 0; v < idx.length; v++) H[idx[u]][idx[v]] += h * val[u] * val[v];
      }
    }
    let sum = 0;
    for (let i = 0; i < P; i++) sum += theta[i];
    for (let i = 0; i < D; i++) {
      g[i] -= l2 * theta[i] + (i < P ? sum : 0);
      H[i][i] += l2;
      if (i < P) for (let j = 0; j < P; j++) H[i][j] += 1;
    }
    const step = solveSpd(H, g);
    // damped Newton: halve the step until the objective does not drop
    let scale = 1;
    let next = theta.map((t, i) => t + step[i]);
    let value = objective(next);
    while (value < current - 1e-12 * Math.abs(current) && scale > 1e-6) {
      scale /= 2;
      next = theta.map((t, i) => t + scale * step[i]);
      value = objective(next);
    }
    const largest = Math.max(...step.map((s) => Math.abs(s * scale)));
    for (let i = 0; i < D; i++) theta[i] = next[i];
    current = value;
    if (largest < tolerance) {
      converged = true;
      break;
    }
  }
  return { beta: theta.slice(0, P), gamma: covariate ? theta[P] : 0, iterations, converged, logLikelihood: current };
}

/** Log-odds per Elo point: 400 Elo = a factor of 10 in the odds. */
export const ELO_PER_LOGIT = 400 / Math.LN10;

/** Elo ratings from strengths: `anchor` (a player index) gets `base`, or the mean does when it is undefined. */
export function toElo(beta: readonly number[], anchor?: number, base = 1000): number[] {
  const ref = anchor === undefined ? beta.reduce((a, b) => a + b, 0) / beta.length : beta[anchor];
  if (ref === undefined) throw new Error(`Elo anchor ${anchor} is not a player index`);
  return beta.map((b) => base + ELO_PER_LOGIT * (b - ref));
}
