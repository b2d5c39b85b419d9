// The paper's range rules, the offline feature predictor, the assessor prompt/reply pair an LLM predictor
// builds on, and the predictor registry.
import { parseLengthAssessorReply, buildLengthAssessorMessages, LENGTH_ASSESSOR_VERSION } from './assessor';
import { createBuiltinLengthPredictor, predictRangeFromFeatures } from './builtin-predictor';
import { PAPER_RANGE_RULES, rangeRuleViolation, snapToRules } from './predictor';
import { createLengthPredictor, lengthPredictorNames, registerLengthPredictor } from './predictor-registry';

describe('range rules', () => {
  it.each([
    [[800, 1200], null],
    [[0, 0], null],
    [[0, 100], null],
    [[9000, 12000], null],
    [[850, 1200], /multiples of 100/],
    [[800, 800], /lo < hi/],
    [[1200, 800], /lo < hi/],
    [[-100, 800], /lo < hi/],
    [[9000, 12100], /at most 12000/],
    [[1000, 4100], /hi - lo must be at most 3000/],
    // lo = 0 is no pass: only [0, 0] is
    [[0, 50], /multiples of 100/],
    [[0, 12100], /at most 12000/],
    [[800.5, 1200], /two integers/],
    [[800], /two integers/],
    ['800-1200', /two integers/],
  ])('%j -> %s', (range, problem) => {
    const v = rangeRuleViolation(range);
    if (problem === null) expect(v).toBeNull();
    else expect(v).toMatch(problem);
  });

  it.each([
    [
      [135, 165],
      [100, 200],
    ],
    [
      [0, 40],
      [0, 100],
    ],
    [
      [11000, 15000],
      [9000, 12000],
    ],
    [
      [1000, 9000],
      [3500, 6500],
    ],
    [
      [12500, 13000],
      [11500, 12000],
    ],
    // too wide: the centre 2550 rounds to 2600, then 1500 either side
    [
      [1000, 4100],
      [1100, 4100],
    ],
    // never [0, 0] nor a range of no width: at least one step
    [
      [0, 0],
      [0, 100],
    ],
    [
      [500, 500],
      [400, 500],
    ],
  ])('snapToRules(%j) = %j, which follows the rules', ([lo, hi], expected) => {
    const snapped = snapToRules(lo, hi);
    expect(snapped).toEqual(expected);
    expect(rangeRuleViolation(snapped)).toBeNull();
  });
});

describe('built-in feature predictor', () => {
  it.each([
    ['Write a tweet about our launch.', [0, 100]],
    ['Write a sonnet about the sea.', [100, 200]],
    ['Write a poem about autumn.', [100, 400]],
    ['Draft an email to my landlord.', [100, 400]],
    ['Write a letter to a friend.', [300, 800]],
    ['Write an essay on liberty.', [800, 1500]],
    ['Write a short essay on liberty.', [400, 800]],
    ['Write a detailed essay on liberty.', [1200, 2300]],
    ['Write a short story about a lighthouse.', [1500, 4000]],
    ['Write a report on the harbour.', [1500, 3000]],
    ['Write a thesis on whaling.', [6000, 9000]],
    ['Write a novel about a whale.', [9000, 12000]],
    ['Write a blog post reviewing a novel.', [500, 1200]],
    ['Write a 3-page essay.', [700, 1100]],
    ['Write five paragraphs about tea.', [400, 800]],
    ['Write 50 pages about the war.', [9000, 12000]],
    ['写一首关于秋天的诗', [100, 400]],
    ['写一篇关于家乡的作文', [800, 1500]],
    ['写一篇详细的报告', [2200, 4500]],
    ['写一部长篇小说', [9000, 12000]],
    ['Tell me something.', [500, 1500]],
    // 10 sentences x 20 words: [160, 240] -> [100, 300]; a count of 0 pages is none (the genre's range)
    ['Write 10 sentences about tea.', [100, 300]],
    ['Write an essay of 0 pages.', [800, 1500]],
  ])('%j -> %j', async (prompt, expected) => {
    expect(predictRangeFromFeatures(prompt)).toEqual(expected);
    const [{ range }] = await createBuiltinLengthPredictor().predict([prompt]);
    expect(range).toEqual(expected);
    expect(rangeRuleViolation(range)).toBeNull();
  });

  it('narrows to whole steps when maxWidth is not a multiple of the step', () => {
    // maxWidth 250 with step 100: the widest range allowed is 200; [0, 1000] centres on 500 -> [400, 600]
    const rules = { step: 100, maxHi: 12000, maxWidth: 250 };
    expect(snapToRules(0, 1000, rules)).toEqual([400, 600]);
    expect(rangeRuleViolation(snapToRules(0, 1000, rules), rules)).toBeNull();
  });

  it('follows tighter rules when given them, and its id changes with its options', async () => {
    const rules = { step: 50, maxHi: 1200, maxWidth: 500 };
    expect(predictRangeFromFeatures('Write a novel.', { rules })).toEqual([700, 1200]);
    expect(createBuiltinLengthPredictor({ rules }).id).not.toBe(createBuiltinLengthPredictor().id);
    expect(createBuiltinLengthPredictor().id).toBe(createBuiltinLengthPredictor().id);
  });
});

describe('length assessor prompt and reply', () => {
  it('asks for the range under the rules, with the prompt quoted', () => {
    const [system, user] = buildLengthAssessorMessages('Write a story about the sea.');
    expect(system.role).toBe('system');
    expect(system.content).toMatch(/multiples of 100, hi at most 12000, and hi - lo at most 3000/);
    expect(system.content).toContain('[0, 0]');
    expect(user).toEqual({ role: 'user', content: expect.stringContaining('Write a story about the sea.') });
    expect(LENGTH_ASSESSOR_VERSION).toMatch(/\/\d+$/);
  });

  it.each([
    ['{"range": [800, 1200]}', [800, 1200]],
    ['```json\n{"range": [2000, 4000]}\n```', [2000, 4000]],
    ['The request is long. {"range": [0, 0]}', [0, 0]],
    ['<think>maybe {"range": [1, 2]}</think>\n{"range": [300, 600]}', [300, 600]],
    ['{"draft": {"range": [1, 2]}} then {"range": [500, 900], "why": "a } in a string"}', [500, 900]],
  ])('accepts %j', (reply, expected) => {
    expect(parseLengthAssessorReply(reply)).toEqual({ ok: true, range: expected });
  });

  it.each([
    ['about 800 to 1200 words', /no JSON object/],
    ['{"range": "800-1200"}', /two integers/],
    ['{"range": [850, 1200]}', /multiples of 100/],
    ['{"range": [2000, 13000]}', /at most 12000/],
    ['{"range": [1000, 5000]}', /at most 3000/],
    ['{"length": [800, 1200]}', /no JSON object with a "range"/],
    ['{"range": [800, 1200]', /no JSON object/],
    // a reasoning model cut off mid-thought, or deciding after </think>: its drafts are not the answer
    ['<think>Maybe {"range": [100, 200]} but let me', /never closes/],
    ['weighing {"range": [100, 200]}\n</think>\n\nAbout 1500 words.', /no JSON object/],
    // a final object that does not parse is not replaced by the draft before it
    ['{"range": [500, 800]} ... final {\'range\': [1000, 1500]}', /last JSON object does not parse/],
  ])('rejects %j saying what to fix', (reply, problem) => {
    const v = parseLengthAssessorReply(reply);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.error).toMatch(problem);
  });

  it('validates against the rules it is given', () => {
    expect(parseLengthAssessorReply('{"range": [850, 1200]}', { ...PAPER_RANGE_RULES, step: 50 })).toEqual({
      ok: true,
      range: [850, 1200],
    });
  });
});

describe('length predictor registry', () => {
  it('makes the builtin predictor from validated options and lists valid names for unknown ones', async () => {
    expect(lengthPredictorNames()).toContain('builtin');
    const p = createLengthPredictor('builtin', { defaultRange: [200, 400] });
    expect(await p.predict(['Tell me something.'])).toEqual([{ range: [200, 400] }]);
    expect(() => createLengthPredictor('builtin', { defaultRnage: [1, 2] })).toThrow(/defaultRnage/);
    expect(() => createLengthPredictor('oracle')).toThrow(/unknown length predictor "oracle" \(valid: builtin/);
    expect(() => registerLengthPredictor('builtin', () => createBuiltinLengthPredictor())).toThrow(/already registered/);
  });
});
