// The pairwise arena: on each prompt, every pair of players that both answered it is judged twice, once in
// each order (A/B swapped), by any PairwiseJudge (chat judge, reward-model judge). Verdicts become battles
// (A's score 1 / 0.5 / 0, strong verdicts optionally weighted) and the ratings come from ratings.ts. A pair with an
// empty (or whitespace-only) answer is not sent to the judge: the other answer wins (A>B or B>A, never a strong
// verdict), and two empty answers tie; such judgments carry EMPTY_ANSWER_REASON and are counted in `emptyDecided`
// (a chat judge is paid per call, and what it makes of nothing is noise). A judge
// that keeps no disk cache of its own is wrapped with withJudgmentCache, so every judgment is on disk
// before it is used and a rerun judges only what is missing. Reports live in report/arena-report.ts.
import {
  withJudgmentCache,
  verdictScoreA,
  isStrongVerdict,
  type PairwiseItem,
  type PairwiseJudge,
  type VerdictLabel,
  type VerdictLevels,
} from '@lwz/judges';
import { mean } from './bootstrap';
import type { Battle } from './bradley-terry';
import { lengthCovariate, rateBattles } from './ratings';
import { isBlankText } from './responses';

export interface ArenaAnswer {
  text: string;
  words: number;
}

export interface ArenaPlayer {
  name: string;
  /** baselines are the fixed opponents of Arena-Write */
  kind: 'model' | 'baseline';
  /** prompt key -> answer */
  answers: ReadonlyMap<string, ArenaAnswer>;
}

export interface ArenaPrompt {
  key: string;
  id: string;
  prompt: string;
  /** words the prompt asks for, when known (reports) */
  required?: number;
}

export type ArenaPairing = 'all' | 'vs-baselines';

export interface ArenaOptions {
  prompts: readonly ArenaPrompt[];
  players: readonly ArenaPlayer[];
  judge: PairwiseJudge;
  /** 'vs-baselines': each model meets every baseline (Arena-Write); 'all': every pair. Default: vs-baselines when there are baselines */
  pairing?: ArenaPairing;
  /** the player rated 1000 (default: the mean is 1000) */
  anchor?: string;
  /** bootstrap resamples over prompts (default 100) */
  resamples?: number;
  seed?: number;
  l2?: number;
  /** also fit the length-controlled ratings */
  lengthControl?: boolean;
  /** weight of A>>B / B>>A in the fit (default 1; arena-hard counts them 3 times) */
  strongWeight?: number;
  /** where verdicts of judges without their own cache are stored */
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface Judgment {
  promptId: string;
  /** shown first */
  a: string;
  b: string;
  /** null: the judge gave no usable verdict in its asks; the battle is left out */
  label: VerdictLabel | null;
  /** A's score: 1, 0.5, 0 (null with the label) */
  scoreA: number | null;
  /** the judge's reason (untrusted text) */
  reason: string;
}

export interface Interval {
  rating: number;
  low: number;
  high: number;
}

export interface ArenaPlayerResult extends Interval {
  name: string;
  kind: 'model' | 'baseline';
  /** length-controlled rating */
  lengthControlled?: Interval;
  /** mean words of its answers on the prompts judged */
  avgWords: number;
  battles: number;
  wins: number;
  ties: number;
  losses: number;
  /** (wins + ties / 2) / battles */
  winRate: number;
}

export interface ArenaResult {
  judge: string;
  levels: VerdictLevels;
  pairing: ArenaPairing;
  anchor: string | null;
  prompts: ArenaPrompt[];
  resamples: number;
  seed: number;
  strongWeight: number;
  /** sorted by rating, best first */
  players: ArenaPlayerResult[];
  /** the length coefficient in Elo per unit of (la - lb) / (la + lb), with its interval */
  lengthCoefficient?: Interval;
  /** row beats column: (wins + ties / 2) / battles over both orders; null where they never met */
  winRates: { players: string[]; values: (number | null)[][] };
  judgments: Judgment[];
  /** judgments without a usable verdict (left out of the fit; rerun with more --judge-attempts to ask further) */
  invalid: number;
  /** judgments decided without the judge because an answer was empty (in `judgments`, with EMPTY_ANSWER_REASON) */
  emptyDecided: number;
  converged: boolean;
}

/** The reason a judgment decided without the judge carries (an answer was empty). */
export const EMPTY_ANSWER_REASON = 'empty answer: decided without the judge';

/** The verdict for a pair with an empty answer: the other wins, both empty tie; null when both have text. */
function emptyVerdict(a: ArenaAnswer, b: ArenaAnswer): VerdictLabel | null {
  const ea = isBlankText(a.text),
    eb = isBlankText(b.text);
  return ea && eb ? 'A=B' : ea ? 'B>A' : eb ? 'A>B' : null;
}

/** The pairs (i, j), i < j, that meet under `pairing`. */
export function arenaPairs(players: readonly ArenaPlayer[], pairing: ArenaPairing): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < players.length; i++)
    for (let j = i + 1; j < players.length; j++) {
      if (pairing === 'vs-baselines' && players[i].kind === players[j].kind) continue;
      pairs.push([i, j]);
    }
  return pairs;
}

/** Per pair of players (P, P): the row's points against the column and their battles; per player: wins, ties, losses. */
function battleTallies(battles: readonly Battle[], P: number) {
  const score = Array.from({ length: P }, () => new Array<number>(P).fill(0)); // (P, P) row's points against column
  const count = Array.from({ length: P }, () => new Array<number>(P).fill(0)); // (P, P) battles
  const tally = Array.from({ length: P }, () => ({ wins: 0, ties: 0, losses: 0 }));
  for (const t of battles) {
    score[t.a][t.b] += t.scoreA;
    score[t.b][t.a] += 1 - t.scoreA;
    count[t.a][t.b]++;
    count[t.b][t.a]++;
    const [wa, wb]: (keyof (typeof tally)[number])[] =
      t.scoreA === 1 ? ['wins', 'losses'] : t.scoreA === 0 ? ['losses', 'wins'] : ['ties', 'ties'];
    tally[t.a][wa]++;
    tally[t.b][wb]++;
  }
  return { score, count, tally };
}

export async function runArena(o: ArenaOptions): Promise<ArenaResult> {
  const names = o.players.map((p) => p.name);
  if (new Set(names).size !== names.length) throw new Error(`arena: player names must be unique, got ${names.join(', ')}`);
  const pairing = o.pairing ?? (o.players.some((p) => p.kind === 'baseline') ? 'vs-baselines' : 'all');
  const pairs = arenaPairs(o.players, pairing);
  if (pairs.length === 0) throw new Error(`arena: no pairs to judge with pairing "${pairing}" (players: ${names.join(', ')})`);
  const judge = o.judge.cachesJudgments || !o.cacheDir ? o.judge : withJudgmentCache(o.judge, o.cacheDir);

  // (prompt index, first, second) for every judged order
  const plan: { q: number; a: number; b: number }[] = [];
  o.prompts.forEach((p, q) => {
    for (const [i, j] of pairs) {
      if (!o.players[i].answers.has(p.key) || !o.players[j].answers.has(p.key)) continue;
      plan.push({ q, a: i, b: j }, { q, a: j, b: i });
    }
  });
  if (plan.length === 0) throw new Error('arena: no prompt has answers from both players of any pair');
  const answer = (player: number, q: number) => o.players[player].answers.get(o.prompts[q].key) as ArenaAnswer;
  const decided = plan.map(({ q, a, b }) => emptyVerdict(answer(a, q), answer(b, q)));
  const toJudge = plan.filter((_, k) => decided[k] === null);
  const items: PairwiseItem[] = toJudge.map(({ q, a, b }) => ({ prompt: o.prompts[q].prompt, a: answer(a, q).text, b: answer(b, q).text }));
  let done = 0;
  o.onProgress?.(0, items.length);
  const judged = items.length ? await judge.judge(items, { signal: o.signal, onJudged: () => o.onProgress?.(++done, items.length) }) : [];
  let next = 0;
  const verdicts = decided.map((label) => (label === null ? judged[next++] : { label, reason: EMPTY_ANSWER_REASON }));

  const strongWeight = o.strongWeight ?? 1;
  const byPrompt: Battle[][] = o.prompts.map(() => []);
  const judgments: Judgment[] = plan.map(({ q, a, b }, k) => {
    const label = verdicts[k].label;
    if (label === null) return { promptId: o.prompts[q].id, a: names[a], b: names[b], label, scoreA: null, reason: verdicts[k].reason };
    const scoreA = verdictScoreA(label);
    const x = lengthCovariate(answer(a, q).words, answer(b, q).words);
    byPrompt[q].push({ a, b, scoreA, x, weight: isStrongVerdict(label) ? strongWeight : 1 });
    return { promptId: o.prompts[q].id, a: names[a], b: names[b], label, scoreA, reason: verdicts[k].reason };
  });
  const usedPrompts = o.prompts.filter((_, q) => byPrompt[q].length > 0);
  const ratings = rateBattles(
    byPrompt.filter((b) => b.length > 0),
    { players: names, anchor: o.anchor, resamples: o.resamples, seed: o.seed, l2: o.l2, lengthControl: o.lengthControl },
  );

  const { score, count, tally } = battleTallies(byPrompt.flat(), names.length);
  const players: ArenaPlayerResult[] = o.players.map((p, i) => {
    const r = ratings.plain.ratings[i];
    const lc = ratings.lengthControlled?.ratings[i];
    const { wins, ties, losses } = tally[i];
    const battles = wins + ties + losses;
    return {
      name: p.name,
      kind: p.kind,
      rating: r.rating,
      low: r.low,
      high: r.high,
      ...(lc ? { lengthControlled: { rating: lc.rating, low: lc.low, high: lc.high } } : {}),
      avgWords: mean(usedPrompts.filter((q) => p.answers.has(q.key)).map((q) => (p.answers.get(q.key) as ArenaAnswer).words)),
      battles,
      wins,
      ties,
      losses,
      winRate: battles ? (wins + ties / 2) / battles : NaN,
    };
  });
  const gamma = ratings.lengthControlled?.gamma;
  return {
    judge: judge.id,
    levels: judge.levels,
    pairing,
    anchor: o.anchor ?? null,
    prompts: usedPrompts,
    resamples: ratings.resamples,
    seed: ratings.seed,
    strongWeight,
    players: [...players].sort((x, y) => y.rating - x.rating),
    ...(gamma ? { lengthCoefficient: { rating: gamma.value, low: gamma.low, high: gamma.high } } : {}),
    winRates: { players: names, values: score.map((row, i) => row.map((s, j) => (count[i][j] ? s / count[i][j] : null))) },
    judgments,
    invalid: judgments.filter((j) => j.label === null).length,
    emptyDecided: decided.filter((label) => label !== null).length,
    converged: ratings.plain.converged && (ratings.lengthControlled?.converged ?? true),
  };
}
