// Per-batch monitors for the trainer's metrics.jsonl and report, as flat keys ("reward/length/mean"). A key
// whose subset is empty (no rows with a target, no groups) is left out rather than written as NaN.
// Not rewards: nothing here feeds the advantage.
import { splitWords } from '@lwz/tokenizer';
import type { GroupIndex } from './advantage/groups';
import type { RepetitionMeasures } from './format/repetition';
import type { WordRange } from './length/range-rule';

export interface MonitorRow {
  answer: string;
  answerWords: number;
  targetRange: WordRange;
  /** [0, 0] target: left out of the length statistics */
  skip: boolean;
  formatValid: boolean;
  repetition: RepetitionMeasures;
  /** rollout finish reason; 'length' = stopped at the token cap */
  finishReason?: string;
  /** name -> reward of this row */
  rewards: Readonly<Record<string, number>>;
  /** the quality score is the scorer's stand-in (a judge that never gave a usable score) */
  qualityFallback?: boolean;
  /** the quality scorer read only the head of the answer (a reward model whose window is shorter than it) */
  qualityTruncated?: boolean;
  /** the target range is the length predictor's stand-in (it had no usable range for the prompt) */
  lengthFallback?: boolean;
}

function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return { mean, std };
}

const mean = (xs: number[]) => meanStd(xs).mean;
const share = (flags: boolean[]) => flags.filter(Boolean).length / flags.length;

/** Distinct n-grams / n-grams over all answers of the batch (Li et al. 2016's distinct-n), lower-cased words. */
export function distinctN(answers: readonly string[], n: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const a of answers) {
    const w = splitWords(a).map((x) => x.toLowerCase());
    for (let i = 0; i + n <= w.length; i++) {
      seen.add(w.slice(i, i + n).join(' '));
      total++;
    }
  }
  return total === 0 ? 0 : seen.size / total;
}

/**
 * Keys: reward/<name>/mean|std (population std), format/broken, repetition/rate (mean share of repeated
 * 4-grams), repetition/duplicate_paragraphs, repetition/penalty, text/distinct_2|3, length/answer_words/mean,
 * length/ratio/mean (answer words / target midpoint), length/in_range, length/skipped, finish/truncated
 * (share with finish reason 'length'; rows without one count as not truncated), quality/fallback (share whose quality
 * score is the scorer's stand-in, so a judge replying badly does not pass for real scores), quality/truncated (share
 * the quality scorer read only in part: answers longer than a reward model's window), length/predictor_fallback (share
 * whose target range is the length predictor's stand-in), and with groups:
 * groups/zero_spread/<name> (share of groups where that reward is constant) and groups/zero_spread/all
 * (every reward constant: the group teaches nothing).
 */
export function rewardMonitors(rows: readonly MonitorRow[], groups?: GroupIndex): Record<string, number> {
  const out: Record<string, number> = {};
  if (rows.length === 0) return out;
  const names = Object.keys(rows[0].rewards);
  for (const k of names) {
    const { mean: m, std } = meanStd(rows.map((r) => r.rewards[k]));
    out[`reward/${k}/mean`] = m;
    out[`reward/${k}/std`] = std;
  }
  out['format/broken'] = share(rows.map((r) => !r.formatValid));
  out['repetition/rate'] = mean(rows.map((r) => r.repetition.ngramDup));
  out['repetition/duplicate_paragraphs'] = mean(rows.map((r) => r.repetition.duplicateParagraphShare));
  out['repetition/penalty'] = mean(rows.map((r) => r.repetition.penalty));
  const answers = rows.map((r) => r.answer);
  out['text/distinct_2'] = distinctN(answers, 2);
  out['text/distinct_3'] = distinctN(answers, 3);
  out['length/answer_words/mean'] = mean(rows.map((r) => r.answerWords));
  out['length/skipped'] = share(rows.map((r) => r.skip));
  const targeted = rows.filter((r) => !r.skip);
  if (targeted.length > 0) {
    out['length/ratio/mean'] = mean(targeted.map((r) => r.answerWords / ((r.targetRange[0] + r.targetRange[1]) / 2)));
    out['length/in_range'] = share(targeted.map((r) => r.answerWords >= r.targetRange[0] && r.answerWords <= r.targetRange[1]));
  }
  out['finish/truncated'] = share(rows.map((r) => r.finishReason === 'length'));
  out['quality/fallback'] = share(rows.map((r) => r.qualityFallback === true));
  out['quality/truncated'] = share(rows.map((r) => r.qualityTruncated === true));
  out['length/predictor_fallback'] = share(rows.map((r) => r.lengthFallback === true));
  if (groups && groups.count > 0) {
    if (groups.ids.length !== rows.length) throw new Error(`rewardMonitors: ${rows.length} rows but ${groups.ids.length} group ids`);
    const constantAll = new Array<boolean>(groups.count).fill(true);
    for (const k of names) {
      const first = new Array<number | undefined>(groups.count);
      const constant = new Array<boolean>(groups.count).fill(true);
      rows.forEach((r, i) => {
        const g = groups.ids[i];
        if (first[g] === undefined) first[g] = r.rewards[k];
        else if (r.rewards[k] !== first[g]) constant[g] = false;
      });
      out[`groups/zero_spread/${k}`] = share(constant);
      constant.forEach((c, g) => (constantAll[g] &&= c));
    }
    out['groups/zero_spread/all'] = share(constantAll);
  }
  return out;
}
