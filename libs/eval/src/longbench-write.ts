// LongBench-Write (LongWriter paper; conventions in ../shared/data/README.md). Length score per answer, x the
// required words and y the answer's words (countWords):
//   S_l = 100 * max(0, 1 - (y/x - 1) / 3)  if y > x,   else 100 * max(0, 1 - (x/y - 1) / 2)
// (an empty answer scores 0), averaged over answers and per required-length bucket. Quality S_q, when a
// judge is given: six dimensions each graded 1-5 by the criteria judge (one call per dimension, our own
// prompt and dimension texts), each mapped to (s - 1) * 25, averaged per answer; overall = (S_l + S_q) / 2.
import { PromptTemplate, CRITERIA_FIELDS, type CriteriaItem, type CriteriaJudge, type JudgeCriterion } from '@lwz/judges';
import { bootstrapMeanInterval, mean } from './bootstrap';
import { textSourceCounts, type TextSource } from './responses';

/** The S_q of the answers the judge scored. */
const judgedSq = (answers: readonly LongBenchAnswerResult[]): number[] => answers.flatMap((a) => (a.S_q === undefined ? [] : [a.S_q]));

/** A bucket's S_q over its judged answers, and how many those are (no S_q when the judge scored none). */
function qualityOf(answers: readonly LongBenchAnswerResult[]): { S_q?: number; S_qAnswers: number } {
  const q = judgedSq(answers);
  return q.length ? { S_q: mean(q), S_qAnswers: q.length } : { S_qAnswers: 0 };
}

export function lengthScore(required: number, words: number): number {
  if (!(required > 0)) throw new Error(`LongBench-Write: required length must be positive, got ${required}`);
  if (words <= 0) return 0;
  return words > required ? 100 * Math.max(0, 1 - (words / required - 1) / 3) : 100 * Math.max(0, 1 - (required / words - 1) / 2);
}

/** The paper's required-length buckets, [lo, hi) words. */
export const LENGTH_BUCKETS: readonly (readonly [number, number])[] = [
  [0, 500],
  [500, 2000],
  [2000, 4000],
  [4000, Infinity],
];

export const bucketLabel = ([lo, hi]: readonly [number, number]): string => (hi === Infinity ? `>=${lo}` : `[${lo}, ${hi})`);

/** The six quality dimensions, graded 1-5 (our own wording). */
export const QUALITY_DIMENSIONS: readonly JudgeCriterion[] = [
  {
    name: 'Relevance',
    description: 'Does the response address the request it was given, in the form asked for?',
    bands: { '1': 'unrelated to the request', '3': 'partly on target, drifts or misses parts', '5': 'squarely answers the whole request' },
  },
  {
    name: 'Accuracy',
    description: 'Are its facts, reasoning and claims correct and not misleading?',
    bands: { '1': 'many errors or fabrications', '3': 'some slips, nothing badly misleading', '5': 'no errors found' },
  },
  {
    name: 'Coherence',
    description: 'Is it organised so that each part follows from the last, with a clear overall shape?',
    bands: { '1': 'jumbled, no discernible order', '3': 'mostly ordered, some jumps', '5': 'clear structure, smooth transitions' },
  },
  {
    name: 'Clarity',
    description: 'Is the language precise and easy to follow, with concrete detail?',
    bands: { '1': 'confusing, vague', '3': 'understandable but flat or wordy', '5': 'clear, concrete and vivid' },
  },
  {
    name: 'Breadth and depth',
    description: 'How much real substance does it carry: range of relevant points and how far each is developed?',
    bands: { '1': 'almost no substance', '3': 'some points, thinly developed', '5': 'wide and deep' },
  },
  {
    name: 'Reading experience',
    description: 'Would a reader enjoy it and want to keep reading?',
    bands: { '1': 'tedious or unreadable', '3': 'readable, unremarkable', '5': 'engaging from start to finish' },
  },
];

export const LONGBENCH_QUALITY_VERSION = 'lbw-quality-1';

export const LONGBENCH_QUALITY_TEMPLATE = `You are grading one aspect of a response to a writing request. Be strict.

<request>
{query}
</request>

<response>
{response}
</response>

<criterion>
{criteria}
</criterion>

Grade only this aspect. Ignore whether the response meets any length requirement: length is scored separately.
End your reply with one JSON object: {{"score": <integer from {min} to {max}>, "reason": "<one sentence>"}}`;

/** Our LongBench-Write quality template, checked like a user's. */
export const longBenchQualityTemplate = (): PromptTemplate =>
  new PromptTemplate(LONGBENCH_QUALITY_TEMPLATE, 'built-in LongBench-Write quality', CRITERIA_FIELDS, ['response']);

export interface LongBenchAnswer {
  id: string;
  prompt: string;
  type?: string;
  /** required words */
  required: number;
  /** countWords of `text`: S_l is counted on the text the judge sees */
  text: string;
  words: number;
  /** which part of its response line `text` is (the shared rule of responses.ts), when it came from one */
  textSource?: TextSource;
}

export interface LongBenchAnswerResult extends LongBenchAnswer {
  S_l: number;
  /** mean of (s - 1) * 25 over the dimensions the judge scored; absent when it scored none */
  S_q?: number;
  /** score null: no usable reply after every ask */
  dimensions?: { name: string; score: number | null; reason: string }[];
}

export interface LongBenchBucket {
  label: string;
  lo: number;
  hi: number;
  answers: number;
  S_l: number;
  /** over the bucket's answers the judge scored (S_qAnswers); absent when it scored none */
  S_q?: number;
  S_qAnswers?: number;
}

export interface LongBenchResult {
  answers: number;
  /** ids of the prompt rows (--prompts) that have no answer: not scored, so S_l is over `answers` alone */
  unanswered?: string[];
  /** how many answers' text came from each part of their line, when they came from a response file */
  judgedText?: Partial<Record<TextSource, number>>;
  S_l: number;
  S_lLow: number;
  S_lHigh: number;
  S_q?: number;
  S_qLow?: number;
  S_qHigh?: number;
  /** answers with an S_q (the judge scored at least one dimension): S_q's mean is over these, S_l's over all */
  S_qAnswers?: number;
  overall?: number;
  judge?: string;
  /** dimension judgments without a usable score (left out) */
  invalid?: number;
  buckets: LongBenchBucket[];
  perAnswer: LongBenchAnswerResult[];
}

export interface LongBenchOptions {
  answers: readonly LongBenchAnswer[];
  /** ids of the prompt rows without an answer (recorded in the result, not scored) */
  unanswered?: readonly string[];
  /** a 1-5 criteria judge; S_q is left out without one */
  judge?: CriteriaJudge;
  resamples?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export async function runLongBenchWrite(o: LongBenchOptions): Promise<LongBenchResult> {
  if (o.answers.length === 0) throw new Error('LongBench-Write: no answers');
  if (o.judge && (o.judge.range[0] !== 1 || o.judge.range[1] !== 5))
    throw new Error(`LongBench-Write quality needs a 1-5 judge, got ${o.judge.range.join('-')}`);
  const perAnswer: LongBenchAnswerResult[] = o.answers.map((a) => ({ ...a, S_l: lengthScore(a.required, a.words) }));
  if (o.judge) {
    const items: CriteriaItem[] = o.answers.flatMap((a) =>
      QUALITY_DIMENSIONS.map((criterion) => ({ query: a.prompt, response: a.text, criterion })),
    );
    let done = 0;
    o.onProgress?.(0, items.length);
    const judged = await o.judge.judgeAll(items, { signal: o.signal, onJudged: () => o.onProgress?.(++done, items.length) });
    perAnswer.forEach((a, i) => {
      const mine = judged.slice(i * QUALITY_DIMENSIONS.length, (i + 1) * QUALITY_DIMENSIONS.length);
      a.dimensions = mine.map((j, d) => ({ name: QUALITY_DIMENSIONS[d].name, score: j.score, reason: j.reason }));
      const valid = mine.flatMap((j) => (j.score === null ? [] : [(j.score - 1) * 25]));
      if (valid.length) a.S_q = mean(valid);
    });
  }
  const resamples = o.resamples ?? 1000;
  const seed = o.seed ?? 0;
  const S_l = mean(perAnswer.map((a) => a.S_l));
  const [S_lLow, S_lHigh] = bootstrapMeanInterval(
    perAnswer.map((a) => a.S_l),
    resamples,
    seed,
  );
  const buckets = LENGTH_BUCKETS.map(([lo, hi]) => {
    const inside = perAnswer.filter((a) => a.required >= lo && a.required < hi);
    return {
      label: bucketLabel([lo, hi]),
      lo,
      hi,
      answers: inside.length,
      S_l: mean(inside.map((a) => a.S_l)),
      ...(o.judge ? qualityOf(inside) : {}),
    };
  });
  const result: LongBenchResult = {
    answers: perAnswer.length,
    ...(o.unanswered?.length ? { unanswered: [...o.unanswered] } : {}),
    ...(o.answers.some((a) => a.textSource) ? { judgedText: textSourceCounts(o.answers) } : {}),
    S_l,
    S_lLow,
    S_lHigh,
    buckets,
    perAnswer,
  };
  if (o.judge) {
    const q = judgedSq(perAnswer);
    const invalid = perAnswer.reduce((n, a) => n + (a.dimensions ?? []).filter((d) => d.score === null).length, 0);
    const [S_qLow, S_qHigh] = bootstrapMeanInterval(q, resamples, seed);
    // as LongWriter's own scripts: S_l over every answer, S_q over the answers the judge scored (S_qAnswers of them)
    Object.assign(result, {
      judge: o.judge.id,
      S_q: mean(q),
      S_qLow,
      S_qHigh,
      S_qAnswers: q.length,
      overall: (S_l + mean(q)) / 2,
      invalid,
    });
  }
  return result;
}
