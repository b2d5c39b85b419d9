// stepMetrics on a hand-made step with no answers to parse: each reward's share of the advantage (its mean
// |advantage| over the sum of those means), the clip fraction (low + high: they count disjoint tokens, A < 0 and
// A > 0), the policy loss and the time split, each against the value computed by hand.
import { mergePolicyLossMetrics } from '@lwz/optimizer';
import type { ScoredRow } from '@lwz/rewards';
import type { Completion } from '@lwz/rollout';
import type { CompletionViolation, Tokenizer } from '@lwz/tokenizer';
import { stepMetrics, type StepRecord } from './step-metrics';

it("writes each reward's share of the advantage, the clip fraction, the loss and the time split", () => {
  const metrics = {
    ...mergePolicyLossMetrics([]),
    ...{ clipFracLow: 0.1, clipFracHigh: 0.05, clipFracDual: 0.02, klRef: 0.02, approxKlOld: 0.003, ratioMean: 1.01 },
    ...{ entropyEstimate: 4.5, entropyLoss: 9, ratioMin: 0.7, ratioMax: 1.6 },
  };
  const row = stepMetrics({
    step: 3,
    flat: [],
    scored: {
      rows: [],
      answers: [],
      finishReasons: [],
      rewards: { length: new Float64Array(), format: new Float64Array(), quality: new Float64Array() },
    },
    combined: {
      advantages: Float64Array.of(0.5, -0.5, 0.25, -0.25),
      // mean |A|: length 1, format 0.5, quality 0 -> shares 2/3, 1/3, 0
      perReward: { length: Float64Array.of(1, -1, 1, -1), format: Float64Array.of(0.5, -0.5, 0.5, -0.5), quality: new Float64Array(4) },
    },
    monitors: { 'format/broken': 0.25 },
    upd: { metrics, loss: -0.125, gradNorm: 0.5, updates: 2, skipped: 1, idle: 3, oldLogprobs: [], tokens: 300 },
    recomputeOld: false,
    klDue: true,
    lr: 1e-3,
    rows: 4,
    genTokens: 100,
    template: 'think',
    tokenizer: undefined as unknown as Tokenizer, // no answer to count think tokens of
    times: [0, 2000, 2500, 4000],
    sample: null,
  });
  expect(row['advantage/share/length']).toBeCloseTo(2 / 3, 12);
  expect(row['advantage/share/format']).toBeCloseTo(1 / 3, 12);
  expect(row['advantage/share/quality']).toBe(0);
  // the clip fraction is low + high (the dual clip's share has its own key), each key the update's own number
  expect(row['policy/clip_frac']).toBeCloseTo(0.15, 12);
  expect([row['policy/clip_frac_low'], row['policy/clip_frac_high'], row['policy/clip_frac_dual']]).toEqual([0.1, 0.05, 0.02]);
  expect([row['policy/approx_kl_old'], row['policy/entropy'], row['policy/ratio_max']]).toEqual([0.003, 4.5, 1.6]);
  expect([row['train/grad_norm'], row['train/skipped_updates'], row['train/idle_updates']]).toEqual([0.5, 1, 3]);
  expect(row['policy/kl_start']).toBe(0.02);
  expect(row['format/valid']).toBe(0.75);
  expect(row['loss/policy']).toBe(-0.125);
  expect([row['time/rollout_s'], row['time/reward_s'], row['time/update_s'], row['time/step_s']]).toEqual([2, 0.5, 1.5, 4]);
  expect([row['perf/gen_tokens_per_s'], row['perf/update_tokens_per_s']]).toEqual([50, 200]);
});

/** A scored answer with the given rewards and violation codes (the rest as a reward row has it). */
function scoredRow(rewards: { length: number; format: number; quality: number }, codes: CompletionViolation[], skip = false): ScoredRow {
  return {
    ...{ target_range: skip ? [0, 0] : [10, 20], target_source: 'row', skip, answer_words: 10 * rewards.length, rewards },
    repetition: { ngram_dup: 0, duplicate_paragraphs: 0, max_paragraph_overlap: 0, penalty: 0 },
    format: { valid: !codes.length, codes, violations: codes.map(String) },
  } as ScoredRow;
}

const completion = (text: string, tokens: number, logprobs: number[]) =>
  ({ text, tokenIds: Array.from({ length: tokens }, (_, i) => i), logprobs, finishReason: 'stop' }) as unknown as Completion;

it('counts violations once per answer, averages lengths over every answer, measures the rollout log-prob distance over trained rows, and samples the best answer', () => {
  // two prompts x 2 answers; prompt 1 is skipped ([0, 0] target), so the update's rows are answers 0 and 1 only
  const flat = [
    { c: completion('', 2, [-1, -2]), p: 0, response: '<think>one two three</think>\n<answer>alpha beta</answer>' },
    { c: completion('', 1, [-3]), p: 0, response: '<think>one</think>\n<answer>a b c d</answer>' },
    { c: completion('', 3, [-9, -9, -9]), p: 1, response: '<answer>no think</answer>' },
    { c: completion('', 2, [-9, -9]), p: 1, response: '' },
  ];
  const rows = [
    scoredRow({ length: 0.6, format: 0.5, quality: 0 }, ['tag-count', 'tag-count']), // one answer with the code twice
    scoredRow({ length: 0.8, format: 1, quality: 0.1 }, []),
    scoredRow({ length: 0.5, format: 1, quality: 1 }, ['text-after'], true),
    scoredRow({ length: 0.5, format: 1, quality: 1 }, ['tag-count'], true),
  ];
  const zeros = () => new Float64Array(4);
  const record: StepRecord = {
    step: 2,
    flat,
    scored: { rows, answers: [], finishReasons: [], rewards: { length: zeros(), format: zeros(), quality: zeros() } },
    // no group had spread: every share is 0, not 0 / 0
    combined: { advantages: zeros(), perReward: { length: zeros(), format: zeros(), quality: zeros() } },
    monitors: {},
    upd: {
      metrics: mergePolicyLossMetrics([]),
      ...{ loss: 0, gradNorm: 0, updates: 0, skipped: 0, idle: 1, tokens: 10 },
      oldLogprobs: [Float32Array.of(-1.5, -2), Float32Array.of(-2)],
    },
    recomputeOld: true,
    klDue: false,
    lr: 1e-3,
    rows: 2,
    genTokens: 8,
    template: 'think',
    // a stand-in that counts words as tokens, and one more where special tokens would be added
    tokenizer: {
      encode: (t: string, o?: { addSpecialTokens?: boolean }) => [...t.split(' '), ...(o?.addSpecialTokens === false ? [] : ['<s>'])],
    } as unknown as Tokenizer,
    times: [0, 1000, 2000, 3000],
    sample: [
      { id: 'a', prompt: 'first prompt' },
      { id: 'b', prompt: 'second prompt' },
    ],
  };
  const row = stepMetrics(record);
  // tag-count: answers 0 and 3 of 4; text-after: answer 2
  expect(row['format/violation/tag-count']).toBeCloseTo(0.5, 12);
  expect(row['format/violation/text-after']).toBeCloseTo(0.25, 12);
  for (const k of ['length', 'format', 'quality']) expect(row[`advantage/share/${k}`]).toBe(0);
  expect(row['length/answer_tokens/mean']).toBe(2); // (2 + 1 + 3 + 2) / 4
  expect(row['length/think_words/mean']).toBe(1); // (3 + 1 + 0 + 0) / 4
  expect(row['length/think_tokens/mean']).toBe(1);
  // |-1.5 - -1| + |-2 - -2| + |-2 - -3| over the trained rows' 3 tokens
  expect(row['rollout/logprob_abs_diff']).toBeCloseTo(1.5 / 3, 6);
  expect(row['policy/kl_start']).toBeUndefined(); // not measured this step
  // the best by length + format reward: answer 1 (1.8; by length + quality it would be answer 0)
  expect(row['sample/prompt']).toBe('first prompt');
  expect(row['sample/response']).toBe(flat[1].response);
  expect(row['sample/answer_words']).toBe(8);
  expect(row['sample/target']).toBe('[10,20]');
});
