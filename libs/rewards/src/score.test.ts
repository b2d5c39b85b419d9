// scoreRewards end to end on a small batch (target sources, the three rewards, verdicts and measures), its
// advantage and monitors, the config's defaults and its errors, and the injected scorer's contract checks.
import { isUserError } from '@lwz/core';
import { DEFAULT_ESTIMATOR_OPTIONS } from './advantage/estimators';
import { contiguousGroups } from './advantage/groups';
import { lmaxRuleOf, mergeRewardsConfig, parseRewardsConfig } from './config';
import type { LengthPredictor } from './length/predictor';
import { createConstantScorer, createFunctionScorer, createQualityScorer, scoreQuality } from './quality/scorer';
import { createLengthPredictor } from './length/predictor-registry';
import { batchMonitors, combineRewards, scoreRewards } from './score';

const words = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => `word${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + (Math.floor(i / 26) % 26))}`,
  ).join(' ');
const think = (answer: string) => `<think>plan</think><answer>${answer}</answer>`;
const fixedPredictor: LengthPredictor = { id: 'fixed', predict: async (ps) => ps.map(() => ({ range: [100, 200] })) };

describe('rewards config', () => {
  it("turns lmax into the length reward's rule", () => {
    expect(lmaxRuleOf(parseRewardsConfig({ length: { lmax: { rule: 'fixed', words: 12000 } } }))).toEqual({ rule: 'fixed', words: 12000 });
    expect(lmaxRuleOf(parseRewardsConfig({ length: { lmax: { factor: 3 } } }))).toEqual({ rule: 'hi-multiple', factor: 3 });
  });

  it("mergeRewardsConfig: naming another scorer or predictor drops the base's options for it; the same one merges", () => {
    const base = {
      template: 'think',
      quality: { scorer: 'builtin-rm', options: { checkpoint: 'runs/rm' } },
      length: { predictor: { name: 'llm', options: { model: 'm' } } },
    };
    const judge = mergeRewardsConfig(base, { quality: { scorer: 'chat-judge', options: { baseUrls: ['http://x/v1'], model: 'j' } } });
    expect(judge.quality).toEqual({ scorer: 'chat-judge', options: { baseUrls: ['http://x/v1'], model: 'j' } });
    expect(judge.length).toEqual(base.length);
    expect(mergeRewardsConfig(base, { length: { predictor: { name: 'builtin' } } }).length).toEqual({
      predictor: { name: 'builtin', options: {} },
    });
    expect(mergeRewardsConfig(base, { quality: { options: { maxTokens: 64 } } }).quality).toEqual({
      scorer: 'builtin-rm',
      options: { checkpoint: 'runs/rm', maxTokens: 64 },
    });
    expect(mergeRewardsConfig(base, { quality: { scorer: 'builtin-rm', options: { maxTokens: 64 } } }).quality).toEqual({
      scorer: 'builtin-rm',
      options: { checkpoint: 'runs/rm', maxTokens: 64 },
    });
    expect(base.quality.options).toEqual({ checkpoint: 'runs/rm' }); // the base is not changed
  });

  it('accepts eps 0 (no smoothing of the group std)', () => {
    expect(parseRewardsConfig({ estimator: { eps: 0 } }).estimator.eps).toBe(0);
  });

  it('fills documented defaults', () => {
    expect(parseRewardsConfig({})).toEqual({
      template: 'think',
      formatGate: false,
      length: { lmax: { rule: 'hi-multiple', factor: 2 }, predictor: { name: 'builtin', options: {} } },
      repetition: {
        ngram: 4,
        paragraphNgram: 3,
        minParagraphWords: 8,
        nearDuplicate: 0.5,
        ngramFree: 0.1,
        ngramFull: 0.4,
        paragraphFree: 0,
        paragraphFull: 0.3,
      },
      quality: { scorer: 'constant', options: {} },
      combination: { name: 'advantage-average', weights: { length: 1, format: 1, quality: 1 } },
      estimator: { name: 'grpo', std: 'sample', eps: 1e-6 },
    });
    const { name: _name, ...estimatorOptions } = parseRewardsConfig({}).estimator;
    expect(DEFAULT_ESTIMATOR_OPTIONS).toEqual(estimatorOptions);
  });

  it.each([
    [{ estimator: { name: 'ppo' } }, /estimator\.name: unknown advantage estimator "ppo" \(valid: grpo, dr-grpo, rloo\)/],
    [{ combination: { name: 'max' } }, /combination\.name: unknown reward combination "max" \(valid: advantage-average/],
    [{ combination: { weights: { length: 0, format: 0, quality: 0 } } }, /combination\.weights: at least one weight must be positive/],
    [{ combination: { weights: { lenght: 1 } } }, /combination\.weights: .*lenght/],
    [{ quality: { scorer: 'gpt' } }, /quality\.scorer: unknown quality scorer "gpt" \(valid: constant/],
    [{ length: { predictor: { name: 'oracle' } } }, /length\.predictor\.name: unknown length predictor "oracle"/],
    [{ length: { lmax: { rule: 'fixed' } } }, /length\.lmax\.words: rule "fixed" needs words/],
    [{ length: { lmax: { rule: 'max' } } }, /length\.lmax\.rule/],
    [{ length: { lmax: { rule: 'hi-multiple', factor: 1 } } }, /length\.lmax\.factor/],
    [{ repetition: { ngramFree: 0.5, ngramFull: 0.4 } }, /repetition\.ngramFull: ngramFull must be greater than ngramFree/],
    // equal thresholds are refused too (the ramp needs a width)
    [{ repetition: { ngramFree: 0.4, ngramFull: 0.4 } }, /repetition\.ngramFull: ngramFull must be greater than ngramFree/],
    [{ repetition: { paragraphFree: 0.3, paragraphFull: 0.3 } }, /repetition\.paragraphFull: paragraphFull must be greater/],
    [{ repetition: { nearDuplicate: 0 } }, /repetition\.nearDuplicate/],
    [{ repetition: { ngram: 0 } }, /repetition\.ngram/],
    [{ length: { lmax: { rule: 'fixed', words: 1.5 } } }, /length\.lmax\.words/],
    [{ combination: { weights: { length: -1 } } }, /combination\.weights\.length/],
    [{ template: 'cot' }, /template/],
    [{ temperature: 1 }, /temperature/],
  ])('names the field of %j', (raw, message) => {
    expect(() => parseRewardsConfig(raw, 'test.json')).toThrow(message);
    expect(() => parseRewardsConfig(raw, 'test.json')).toThrow(/invalid config from test\.json/);
  });
});

describe('scoreRewards', () => {
  const config = parseRewardsConfig({ quality: { options: { value: 0.25 } } });
  const rows = [
    { prompt: 'Write 100 words.', response: think(words(100)), finish_reason: 'stop' },
    { prompt: 'Write 100 words.', response: think(words(50)), finish_reason: 'stop' },
    { prompt: 'Write an essay.', response: `<think>plan</think><answer>${words(150)}`, finish_reason: 'length' },
    { prompt: 'Write an essay.', response: think(words(400)), length_range: [0, 0] },
  ];

  it('gives each row its target, three rewards, measures and verdict', async () => {
    const batch = await scoreRewards(rows, config, {
      quality: createFunctionScorer('len', (it) => (it.answer ? 1 : 0)),
      predictor: fixedPredictor,
    });
    expect(batch.rows.map((r) => [r.target_range, r.target_source, r.skip, r.answer_words])).toEqual([
      [[90, 110], 'prompt', false, 100],
      [[90, 110], 'prompt', false, 50],
      [[100, 200], 'predictor', false, 150],
      [[0, 0], 'row', true, 400],
    ]);
    expect(batch.rows.map((r) => r.rewards)).toEqual([
      { length: 1, format: 1, quality: 1 },
      { length: 50 / 90, format: 1, quality: 1 },
      { length: 1, format: 0, quality: 1 },
      { length: 0, format: 1, quality: 1 },
    ]);
    expect(batch.rows[2].format).toEqual({
      valid: false,
      codes: ['tag-count', 'answer-not-closed'],
      violations: ['</answer> appears 0 times, expected 1', '<answer> is not closed'],
    });
    expect(batch.rows[0].repetition).toEqual({ ngram_dup: 0, duplicate_paragraphs: 0, max_paragraph_overlap: 0, penalty: 0 });
    expect(Array.from(batch.rewards.length)).toEqual(batch.rows.map((r) => r.rewards.length));
    expect(JSON.parse(JSON.stringify(batch.rows))).toEqual(batch.rows);
    expect(batchMonitors(batch)['quality/fallback']).toBe(0);
  });

  it("marks rows whose quality is the scorer's stand-in, and counts them in the monitors", async () => {
    const judge = {
      id: 'half-judged',
      score: async (items: readonly unknown[]) =>
        items.map((_, i) => (i % 2 ? { score: 0.5, fallback: true, reason: 'no usable reply' } : { score: 0.9, raw: 9 })),
    };
    const batch = await scoreRewards(rows, config, { quality: judge, predictor: fixedPredictor });
    expect(batch.rows.map((r) => r.quality_fallback ?? false)).toEqual([false, true, false, true]);
    expect(batch.rows.map((r) => [r.quality_raw, r.quality_reason])).toEqual([
      [9, undefined],
      [undefined, 'no usable reply'],
      [9, undefined],
      [undefined, 'no usable reply'],
    ]);
    expect(batchMonitors(batch)['quality/fallback']).toBe(0.5);
  });

  it('marks rows the quality scorer read only in part (a reward model with a shorter window), and counts them', async () => {
    const rm = {
      id: 'short-window',
      score: async (items: readonly unknown[]) => items.map((_, i) => (i === 3 ? { score: 0.4, truncated: true } : { score: 0.6 })),
    };
    const batch = await scoreRewards(rows, config, { quality: rm, predictor: fixedPredictor });
    expect(batch.rows.map((r) => r.quality_truncated ?? false)).toEqual([false, false, false, true]);
    expect(batchMonitors(batch)['quality/truncated']).toBe(0.25);
    expect(batchMonitors(await scoreRewards(rows, config, { quality: createConstantScorer(), predictor: fixedPredictor }))).toMatchObject({
      'quality/truncated': 0,
    });
  });

  it("marks rows whose target range is the length predictor's stand-in, and counts them in the monitors", async () => {
    const unsure: LengthPredictor = { id: 'unsure', predict: async (ps) => ps.map(() => ({ range: [100, 200], fallback: true })) };
    const batch = await scoreRewards(rows, config, { quality: createConstantScorer(), predictor: unsure });
    const predicted = batch.rows.map((r) => r.target_source === 'predictor');
    expect(predicted).toEqual([false, false, true, false]); // row 2 states no length: the predictor's
    expect(batch.rows.map((r) => r.target_fallback ?? false)).toEqual(predicted);
    expect(batchMonitors(batch)['length/predictor_fallback']).toBe(predicted.filter(Boolean).length / rows.length);
  });

  it('formatGate zeroes the length and quality rewards of broken completions only, and marks them', async () => {
    const deps = {
      quality: createFunctionScorer('len', (it: { answer: string | null }) => (it.answer ? 1 : 0)),
      predictor: fixedPredictor,
    };
    const open = await scoreRewards(rows, config, deps);
    const gatedBatch = await scoreRewards(rows, { ...config, formatGate: true }, deps);
    expect(open.rows[2].rewards).toEqual({ length: 1, format: 0, quality: 1 }); // broken, yet paid for length and quality
    expect(gatedBatch.rows.map((r) => r.rewards)).toEqual([
      { length: 1, format: 1, quality: 1 },
      { length: 50 / 90, format: 1, quality: 1 },
      { length: 0, format: 0, quality: 0 },
      { length: 0, format: 1, quality: 1 },
    ]);
    expect(gatedBatch.rows.map((r) => r.gated ?? false)).toEqual([false, false, true, false]);
    expect(gatedBatch.rows[2].answer_words).toBe(150); // the measures stay
    expect(Array.from(gatedBatch.rewards.quality)).toEqual([1, 1, 0, 1]);
    expect(open.rows.some((r) => 'gated' in r)).toBe(false);
  });

  it('formatGate also gates a completion broken in one way only (text after the answer)', async () => {
    const deps = { quality: createFunctionScorer('one', () => 1), predictor: fixedPredictor };
    const row = { prompt: 'Write 100 words.', response: `${think(words(100))} P.S. bye` };
    const batch = await scoreRewards([row], { ...config, formatGate: true }, deps);
    expect(batch.rows[0].format.codes).toEqual(['text-after']);
    expect(batch.rows[0].rewards).toEqual({ length: 0, format: 0, quality: 0 });
  });

  it('does not let zero-width characters split words for the length reward', async () => {
    const deps = { quality: createFunctionScorer('one', () => 1), predictor: fixedPredictor };
    const words = 'the tide came in '.repeat(25).trim(); // 100 words
    const hidden = words.replace(/\b(\w)(\w+)\b/g, (_, a: string, b: string) => `${a}\u200b${b}`); // 'the' -> 't\u200bhe'
    const row = (answer: string) => ({ prompt: 'Write 200 words.', response: `<think>p</think><answer>${answer}</answer>` });
    const batch = await scoreRewards([row(words), row(hidden)], config, deps);
    expect(batch.rows.map((r) => r.answer_words)).toEqual([100, 100]);
    expect(batch.rows[1].rewards.length).toBe(batch.rows[0].rewards.length);
  });

  it('makes the default scorer and predictor from the config, and feeds combineRewards and batchMonitors', async () => {
    const batch = await scoreRewards(rows, config);
    expect(batch.rows.map((r) => r.rewards.quality)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(batch.rows[2].target_range).toEqual([800, 1500]);
    const groups = contiguousGroups(2, 2);
    const { advantages, perReward } = combineRewards(batch, groups, config);
    expect(Array.from(perReward.quality)).toEqual([0, 0, 0, 0]);
    expect(advantages[0]).toBeGreaterThan(0);
    expect(advantages[0] + advantages[1]).toBeCloseTo(0, 12);
    const m = batchMonitors(batch, groups);
    expect(m['finish/truncated']).toBe(0.25);
    expect(m['format/broken']).toBe(0.25);
    expect(m['groups/zero_spread/quality']).toBe(1);
    expect(m['length/skipped']).toBe(0.25); // the [0, 0] row
  });

  it('gives the quality scorer the whole completion and the answer (null without an answer block)', async () => {
    const seen: { response: string; answer: string | null }[] = [];
    const recorder = createFunctionScorer('rec', (it) => (seen.push({ response: it.response, answer: it.answer }), 0.5));
    const rs = [rows[0], { prompt: 'Write an essay.', response: 'no blocks at all' }];
    await scoreRewards(rs, config, { quality: recorder, predictor: fixedPredictor });
    expect(seen).toEqual([
      { response: rows[0].response, answer: words(100) },
      { response: 'no blocks at all', answer: null },
    ]);
  });

  it("uses the config's Lmax rule for the length reward", async () => {
    // 400 words against [90, 110]: the default cap 2 x 110 gives 0; a fixed cap of 12,000 gives (12000 - 400) / (12000 - 110)
    const fixed = parseRewardsConfig({ length: { lmax: { rule: 'fixed', words: 12000 } } });
    const row = { prompt: 'Write 100 words.', response: think(words(400)) };
    const deps = { quality: createConstantScorer(), predictor: fixedPredictor };
    expect((await scoreRewards([row], config, deps)).rows[0].rewards.length).toBe(0);
    expect((await scoreRewards([row], fixed, deps)).rows[0].rewards.length).toBeCloseTo(11600 / 11890, 12);
  });

  it('passes each repetition measure to its row field and monitor key', async () => {
    // a paragraph of 8 distinct words and its copy: 4-grams 13, 5 repeated; the copy is 8 of 16 words and overlaps fully;
    // penalty min(1, ramp(5/13; 0.1, 0.4) + ramp(0.5; 0, 0.3)) = 1
    const para = 'alpha bravo charlie delta echo foxtrot golf hotel';
    const batch = await scoreRewards([{ prompt: 'Write 16 words.', response: think(`${para}\n\n${para}`) }], config, {
      quality: createConstantScorer(),
      predictor: fixedPredictor,
    });
    const rep = batch.rows[0].repetition;
    expect(rep.ngram_dup).toBeCloseTo(5 / 13, 12);
    expect([rep.duplicate_paragraphs, rep.max_paragraph_overlap, rep.penalty]).toEqual([0.5, 1, 1]);
    const m = batchMonitors(batch);
    expect(m['repetition/rate']).toBeCloseTo(5 / 13, 12);
    expect([m['repetition/duplicate_paragraphs'], m['repetition/penalty']]).toEqual([0.5, 1]);
  });

  it.each([
    [() => createQualityScorer('constant', { value: 'abc' }), 'quality.options.value must be a number in [0, 1], got "abc"'],
    [() => createQualityScorer('constant', { value: 2 }), 'quality.options.value must be a number in [0, 1], got 2'],
    [() => createQualityScorer('constant', { vaule: 0.3 }), 'quality.options for "constant": unknown field(s) vaule (valid: value)'],
    [
      () => createLengthPredictor('builtin', { model: 'x' }),
      'builtin length predictor: length.predictor.options: Unrecognized key: "model"',
    ],
    [() => createLengthPredictor('builtin', { wordsPerPage: -1 }), 'length.predictor.options.wordsPerPage: Too small'],
  ])("reports the default scorer's and predictor's bad options as a user's error (%#)", (make, message) => {
    let err: unknown;
    try {
      make();
    } catch (e) {
      err = e;
    }
    expect(isUserError(err)).toBe(true); // the CLIs print its message, not a stack trace
    expect((err as Error).message).toContain(message);
  });

  it('names the row and field of bad input and a scorer that breaks its contract', async () => {
    await expect(scoreRewards([{ prompt: 'x', response: 3 as unknown as string }], config)).rejects.toThrow(
      /row 0: field "response" must be a string/,
    );
    const out = createFunctionScorer('out-of-range', () => 7);
    await expect(scoreRewards(rows, config, { quality: out, predictor: fixedPredictor })).rejects.toThrow(
      /out-of-range: item 0 has score 7, expected a number in \[0, 1\]/,
    );
    const negative = createFunctionScorer('negative', () => -0.1);
    await expect(scoreRewards(rows, config, { quality: negative, predictor: fixedPredictor })).rejects.toThrow(
      /negative: item 0 has score -0\.1/,
    );
    const text = { id: 'text', score: async (items: readonly unknown[]) => items.map(() => ({ score: '0.5' as unknown as number })) };
    await expect(scoreRewards(rows, config, { quality: text, predictor: fixedPredictor })).rejects.toThrow(/text: item 0 has score "0\.5"/);
    const short = { id: 'short', score: async () => [] };
    await expect(scoreRewards(rows, config, { quality: short, predictor: fixedPredictor })).rejects.toThrow(
      /short returned 0 scores for 4 items/,
    );
  });
});

describe('combineRewards', () => {
  // one group of 3: length [1, 0.5, 0] (mean 0.5), format constant, quality only in the third answer
  const batch = {
    rows: [],
    answers: [],
    finishReasons: [],
    rewards: { length: Float64Array.of(1, 0.5, 0), format: Float64Array.of(1, 1, 1), quality: Float64Array.of(0, 0, 0.6) },
  };
  const weights = { length: 2, format: 1, quality: 0 };
  const combine = (raw: object) => Array.from(combineRewards(batch, contiguousGroups(1, 3), parseRewardsConfig(raw)).advantages);

  it("follows the config's estimator (name, std, eps), weights and combination", () => {
    // grpo, population std sqrt(1/6), eps 0.5: A_length = +-0.5 / (sqrt(1/6) + 0.5); format is constant (0); quality weighs 0
    const aLength = 0.5 / (Math.sqrt(1 / 6) + 0.5);
    expect(combine({ combination: { weights }, estimator: { std: 'population', eps: 0.5 } })).toBeAllClose(
      [(2 * aLength) / 3, 0, (-2 * aLength) / 3],
      { atol: 1e-12 },
    );
    // rloo: r_i minus the mean of the other two: length [0.75, 0, -0.75], weighted 2 / 3
    expect(combine({ combination: { weights }, estimator: { name: 'rloo' } })).toBeAllClose([0.5, 0, -0.5], { atol: 1e-12 });
    // sum-then-normalize: r = (2 length + format) / 3 = [1, 2/3, 1/3], population std sqrt(2/27), eps 0.5
    const aSum = 1 / 3 / (Math.sqrt(2 / 27) + 0.5);
    expect(combine({ combination: { name: 'sum-then-normalize', weights }, estimator: { std: 'population', eps: 0.5 } })).toBeAllClose(
      [aSum, 0, -aSum],
      { atol: 1e-12 },
    );
  });
});

describe('quality scorers in this lib', () => {
  it('the constant scorer gives 0.5 by default and refuses a value outside [0, 1]', async () => {
    for (const scorer of [createConstantScorer(), createQualityScorer('constant', {})]) {
      expect(scorer.id).toBe('constant:0.5');
      expect(await scorer.score([{ prompt: 'p', response: 'r', answer: null }])).toEqual([{ score: 0.5 }]);
    }
    expect(() => createConstantScorer(2)).toThrow(/must be in \[0, 1\], got 2/);
  });

  it('scoreQuality does not call the scorer for an empty batch', async () => {
    const never = { id: 'never', score: async () => Promise.reject(new Error('called')) };
    await expect(scoreQuality(never, [])).resolves.toEqual([]);
  });
});
