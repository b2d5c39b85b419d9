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
  /** 95 % bootstrap interval */
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
  const plan = bootstrapPlan(battlesByPrompt.length, resamples, seed);

  const fitOnce = (covariate: boolean): RatingFit => {
    const bt = (battles: readonly Battle[]) => fitBradleyTerry(battles, { players: players.length, l2: options.l2, covariate });
    const full = bt(battlesByPrompt.flat());
    const elo = toElo(full.beta, anchor, options.base);
    const samples = plan.map((draw) => bt(draw.flatMap((i) => battlesByPrompt[i])));
    const eloSamples = samples.map((s) => toElo(s.beta, anchor, options.base));
    const ratings = players.map((name, p) => {
      const [low, high] = interval95(eloSamples.map((e) => e[p]));
      return { name, rating: elo[p], low, high };
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
