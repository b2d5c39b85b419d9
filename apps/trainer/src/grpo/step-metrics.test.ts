// stepMetrics on a hand-made step with no answers to parse: each reward's share of the advantage (its mean
// |advantage| over the sum of those means), the clip fraction (low + high: they count disjoint tokens, A < 0 and
// A > 0), the policy loss and the time split, each against the value computed by hand.
import { mergePolicyLossMetrics } from '@lwz/optimizer';
import type { Tokenizer } from '@lwz/tokenizer';
import { stepMetrics } from './step-metrics';

it("writes each reward's share of the advantage, the clip fraction, the loss and the time split", () => {
  const metrics = { ...mergePolicyLossMetrics([]), clipFracLow: 0.1, clipFracHigh: 0.05, klRef: 0.02 };
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
    upd: { metrics, loss: -0.125, gradNorm: 0.5, updates: 2, skipped: 0, idle: 0, oldLogprobs: [], tokens: 300 },
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
  expect(row['policy/clip_frac']).toBeCloseTo(0.15, 12);
  expect(row['policy/kl_start']).toBe(0.02);
  expect(row['format/valid']).toBe(0.75);
  expect(row['loss/policy']).toBe(-0.125);
  expect([row['time/rollout_s'], row['time/reward_s'], row['time/update_s'], row['time/step_s']]).toEqual([2, 0.5, 1.5, 4]);
  expect([row['perf/gen_tokens_per_s'], row['perf/update_tokens_per_s']]).toEqual([50, 200]);
});
