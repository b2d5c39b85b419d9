// The parts of a GRPO step that run.ts exports, without a model. The rewards stage (scoreAnswers) on hand-made completions: the rows the update trains on keep
// each answer's prompt ids, tokens, engine log-probs, its own advantage and its prompt's group, with a skipped
// prompt ([0, 0] target) scored but left out; the scorers read the assistant turn as it reads (the template's
// prefill, then the completion). The advantages are checked against what the rule gives by hand: with length and
// format rewards equal within a group and quality scores 0.1, 0.5, 0.9, the normalised advantages are -a, 0, +a.
// And what the finite guard reads after an update: only a step whose every update was skipped counts towards
// stopping the run.
import type { QualityItem } from '@lwz/rewards';
import { createFunctionScorer } from '@lwz/rewards';
import type { Completion } from '@lwz/rollout';
import { resolveGrpoConfig } from './config';
import { FiniteGuard, MAX_SKIPPED_STEPS_IN_A_ROW } from '@lwz/training';
import type { GrpoPrompt } from './prompts';
import { guardNumbers, scoreAnswers } from './run';
import { depsWithQuality } from './testing';
import type { UpdateResult } from './update';

const completion = (text: string, tokenIds: number[], logprobs: number[]): Completion => ({
  promptIndex: 0,
  sampleIndex: 0,
  promptTokens: 3,
  tokenIds,
  logprobs,
  text,
  finishReason: 'stop',
});

it('trains on the kept prompts only, each answer with its own advantage, tokens and log-probs, grouped by prompt', async () => {
  const cfg = resolveGrpoConfig({ overrides: { rollout: { n: 3 }, rewards: { formatGate: false } } });
  // the first prompt asks for nothing ([0, 0]: skipped); the second is trained on
  const picked: GrpoPrompt[] = [
    { id: 'skip', prompt: 'Say nothing.', length_range: [0, 0] },
    { id: 'kept', prompt: 'Write 40 words about the sea.', length_range: [30, 50] },
  ];
  const ids = [
    [1, 2, 3],
    [4, 5, 6, 7],
  ];
  // one word each (the same length and format rewards within a group); the quality scorer tells them apart
  const quality: Record<string, number> = { alpha: 0.5, beta: 0.5, gamma: 0.5, delta: 0.1, echo: 0.5, fox: 0.9 };
  const seen: QualityItem[] = [];
  const deps = depsWithQuality(
    cfg,
    createFunctionScorer('by-word', (item) => {
      seen.push(item);
      return quality[item.response.replace('PRE:', '').trim()];
    }),
  );
  const completions = [
    [completion('alpha', [10], [-0.1]), completion('beta', [11], [-0.2]), completion('gamma', [12], [-0.3])],
    [completion('delta', [20, 21], [-1, -2]), completion('echo', [22, 23], [-3, -4]), completion('fox', [24], [-5])],
  ];
  const rendered = () => ({ ids: [], prefill: 'PRE:' });
  const { rows, scored } = await scoreAnswers(cfg, deps, picked, ids, completions, rendered);

  expect(seen.map((s) => s.response)).toEqual(['alpha', 'beta', 'gamma', 'delta', 'echo', 'fox'].map((w) => `PRE:${w}`));
  expect(scored.rows.map((r) => r.skip)).toEqual([true, true, true, false, false, false]);
  expect(rows.map((r) => r.group)).toEqual([1, 1, 1]);
  expect(rows.map((r) => r.prompt)).toEqual([ids[1], ids[1], ids[1]]);
  expect(rows.map((r) => r.answer)).toEqual([[20, 21], [22, 23], [24]]);
  expect(rows.map((r) => r.logprobs)).toEqual([[-1, -2], [-3, -4], [-5]]);
  // quality 0.1, 0.5, 0.9 about their mean 0.5: -a, 0, +a
  const [lo, mid, hi] = rows.map((r) => r.advantage);
  expect(hi).toBeGreaterThan(0.1);
  expect(lo).toBeCloseTo(-hi, 12);
  expect(mid).toBeCloseTo(0, 12);
});

describe('guardNumbers', () => {
  const result = (updates: number, skipped: number, idle: number): UpdateResult =>
    ({ loss: 0.5, gradNorm: 2, updates, skipped, idle }) as UpdateResult;

  it('marks a step skipped only when every mini-batch was skipped for a non-finite gradient norm', () => {
    expect(guardNumbers(result(0, 2, 0), 4, 1e-3)).toEqual({ step: 4, loss: 0.5, gradNorm: NaN, lr: 1e-3, skipped: true });
    expect(guardNumbers(result(1, 1, 0), 4, 1e-3)).toEqual({ step: 4, loss: 0.5, gradNorm: 2, lr: 1e-3, skipped: false });
    expect(guardNumbers(result(0, 0, 2), 4, 1e-3)).toMatchObject({ gradNorm: NaN, skipped: false }); // no signal, nothing failed
  });

  it('stops the run at the third step in a row without an update, not before, and not after an applied one', () => {
    const guard = new FiniteGuard({ what: 'lwz-train train', runDir: '/nonexistent', start: null, lrKey: 'optim.lr' });
    expect(MAX_SKIPPED_STEPS_IN_A_ROW).toBe(3);
    guard.check(guardNumbers(result(0, 2, 0), 1, 1e-3));
    guard.check(guardNumbers(result(0, 2, 0), 2, 1e-3));
    guard.check(guardNumbers(result(1, 1, 0), 3, 1e-3)); // an update again: the count starts over
    guard.check(guardNumbers(result(0, 2, 0), 4, 1e-3));
    guard.check(guardNumbers(result(0, 2, 0), 5, 1e-3));
    expect(() => guard.check(guardNumbers(result(0, 2, 0), 6, 1e-3))).toThrow(
      /step 6: the gradient norm has not been finite for 3 steps in a row/,
    );
  });
});
