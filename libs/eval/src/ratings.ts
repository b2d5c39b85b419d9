// Arena ratings from battles grouped by prompt: the Bradley-Terry fit on all battles, its Elo with a 95 %
// bootstrap interval over prompts, and optionally the length-controlled fit (each battle's covariate x is
// the relative length difference) on the very same resamples. Pure numbers in, numbers out.
import { bootstrapPlan, interval95 } from './bootstrap';
import { fitBradleyTerry, toElo, ELO_PER_LOGIT, type Battle } from './bradley-terry';

export interface RatingOptions {
  /** player names, in the battles' index order */
  players: readonly string[];
  /** the player rated `base` (default: the mean is) */
  anchor?: string;
  /** default 1000 */
  base?: number;
  /** bootstrap resamples over prompts (default 100) */
  resamples?: number;
  seed?: number;
  /** Bradley-Terry ridge (default 1e-3) */
  l2?: number;
  /** also fit with the battles' length covariate */
  lengthControl?: boolean;
}

export interface PlayerRating {
  name: string;
  /** Elo from all battles */
  rating: number;
  /**
   * 95 % bootstrap interval; -Infinity / +Infinity where at least 2.5 % of the resamples have the player lose / win
   * every battle it plays: its rating there is set by the fit's ridge (l2), not by the data, so the data give no bound
   */
  low: number;
  high: number;
}

export interface RatingFit {
  ratings: PlayerRating[];
  /** the covariate's coefficient in Elo points per unit of x (length-controlled fit), with its interval */
  gamma?: { value: number; low: number; high: number };
  converged: boolean;
}

export interface Ratings {
  plain: RatingFit;
  lengthControlled?: RatingFit;
  resamples: number;
  seed: number;
}

/** Relative length difference (la - lb) / (la + lb) in [-1, 1]: the length-controlled fit's covariate. */
export function lengthCovariate(wordsA: number, wordsB: number): number {
  return wordsA + wordsB > 0 ? (wordsA - wordsB) / (wordsA + wordsB) : 0;
}

export function rateBattles(battlesByPrompt: readonly (readonly Battle[])[], options: RatingOptions): Ratings {
  const players = options.players;
  const anchor = options.anchor === undefined ? undefined : players.indexOf(options.anchor);
  if (anchor === -1) throw new Error(`anchor ${JSON.stringify(options.anchor)} is not a player; players: ${players.join(', ')}`);
  const resamples = options.resamples ?? 100;
  const seed = options.seed ?? 0;
  const drawn = bootstrapPlan(battlesByPrompt.length, resamples, seed).map((draw) => draw.flatMap((i) => battlesByPrompt[i]));
  // resamples where a player won (lost) every battle it played: no finite maximum-likelihood rating exists there
  const swept = players.map(() => ({ won: 0, lost: 0 }));
  for (const battles of drawn) {
    const seen = players.map(() => ({ played: false, dropped: false, gained: false }));
    for (const battle of battles) {
      for (const [p, score] of [
        [battle.a, battle.scoreA],
        [battle.b, 1 - battle.scoreA],
      ] as const) {
        seen[p].played = true;
        if (score < 1) seen[p].dropped = true;
        if (score > 0) seen[p].gained = true;
      }
    }
    seen.forEach((x, p) => {
      if (x.played && !x.dropped) swept[p].won++;
      if (x.played && !x.gained) swept[p].lost++;
    });
  }

  const fitOnce = (covariate: boolean): RatingFit => {
    const bt = (battles: readonly Battle[]) => fitBradleyTerry(battles, { players: players.length, l2: options.l2, covariate });
    const full = bt(battlesByPrompt.flat());
    const elo = toElo(full.beta, anchor, options.base);
    const samples = drawn.map(bt);
    const eloSamples = samples.map((s) => toElo(s.beta, anchor, options.base));
    const ratings = players.map((name, p) => {
      const [low, high] = interval95(eloSamples.map((e) => e[p]));
      const unbounded = (n: number) => p !== anchor && n >= 0.025 * drawn.length;
      return { name, rating: elo[p], low: unbounded(swept[p].lost) ? -Infinity : low, high: unbounded(swept[p].won) ? Infinity : high };
    });
    const converged = full.converged && samples.every((s) => s.converged);
    if (!covariate) return { ratings, converged };
    const [gLow, gHigh] = interval95(samples.map((s) => s.gamma * ELO_PER_LOGIT));
    return { ratings, converged, gamma: { value: full.gamma * ELO_PER_LOGIT, low: gLow, high: gHigh } };
  };

  return {
    plain: fitOnce(false),
    lengthControlled: options.lengthControl ? fitOnce(true) : undefined,
    resamples,
    seed,
  };
}
