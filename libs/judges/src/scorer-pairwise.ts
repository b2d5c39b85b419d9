// The seam for reward-model judges: any QualityScorer (@lwz/rewards: the built-in RM
// with a value head, ONNX RM, even the chat rubric judge) becomes a PairwiseJudge. Each distinct
// (prompt, answer) is scored once per batch; the higher score wins, a difference below `tieMargin` is a
// tie, and with 5 levels a difference of at least `strongMargin` is a strong win. Scores on the scorer's
// [0, 1] scale. Because both orders get the same two scores, the two verdicts of a pair mirror each other.
import type { QualityScorer } from '@lwz/rewards';
import type { PairwiseItem, PairwiseJudge, PairwiseJudgeOptions, PairwiseVerdict } from './pairwise';
import type { VerdictLabel, VerdictLevels } from './verdict';

export interface ScorerPairwiseOptions {
  /** |scoreA - scoreB| below this is a tie (default 0.02) */
  tieMargin?: number;
  /** with 5 levels, |scoreA - scoreB| at or above this is A>>B / B>>A (default 0.25) */
  strongMargin?: number;
  /** default 3 */
  levels?: VerdictLevels;
}

/** The verdict for two scores under the margins. */
export function labelFromScores(a: number, b: number, o: Required<ScorerPairwiseOptions>): VerdictLabel {
  const d = a - b;
  if (Math.abs(d) < o.tieMargin) return 'A=B';
  const strong = o.levels === 5 && Math.abs(d) >= o.strongMargin;
  return d > 0 ? (strong ? 'A>>B' : 'A>B') : strong ? 'B>>A' : 'B>A';
}

export function pairwiseFromScorer(scorer: QualityScorer, options: ScorerPairwiseOptions = {}): PairwiseJudge {
  const o: Required<ScorerPairwiseOptions> = { tieMargin: 0.02, strongMargin: 0.25, levels: 3, ...options };
  if (!(o.tieMargin >= 0 && o.strongMargin > o.tieMargin)) {
    throw new Error(`scorer pairwise judge: need 0 <= tieMargin < strongMargin, got ${o.tieMargin}, ${o.strongMargin}`);
  }
  const margins = o.levels === 5 ? `tie<${o.tieMargin},strong>=${o.strongMargin}` : `tie<${o.tieMargin}`;
  return {
    id: `scorer-pairwise:${scorer.id}/${o.levels}/${margins}`,
    levels: o.levels,
    cachesJudgments: false,
    async judge(items: readonly PairwiseItem[], opts: PairwiseJudgeOptions = {}): Promise<PairwiseVerdict[]> {
      const keyOf = (prompt: string, text: string) => `${prompt}\u0000${text}`;
      const unique = new Map<string, { prompt: string; text: string }>();
      for (const it of items) {
        unique.set(keyOf(it.prompt, it.a), { prompt: it.prompt, text: it.a });
        unique.set(keyOf(it.prompt, it.b), { prompt: it.prompt, text: it.b });
      }
      const entries = [...unique.entries()];
      const scores = await scorer.score(
        entries.map(([, v]) => ({ prompt: v.prompt, response: v.text, answer: v.text })),
        { signal: opts.signal },
      );
      if (scores.length !== entries.length)
        throw new Error(`scorer ${scorer.id} returned ${scores.length} scores for ${entries.length} answers`);
      const byKey = new Map(entries.map(([k], i) => [k, scores[i].score]));
      return items.map((it, i) => {
        const sa = byKey.get(keyOf(it.prompt, it.a)) as number;
        const sb = byKey.get(keyOf(it.prompt, it.b)) as number;
        if (!Number.isFinite(sa) || !Number.isFinite(sb)) throw new Error(`scorer ${scorer.id} gave a non-finite score (${sa}, ${sb})`);
        const v: PairwiseVerdict = {
          label: labelFromScores(sa, sb, o),
          reason: `scores A ${sa.toFixed(4)}, B ${sb.toFixed(4)}`,
          scoreA: sa,
          scoreB: sb,
        };
        opts.onJudged?.(i, v);
        return v;
      });
    },
  };
}
