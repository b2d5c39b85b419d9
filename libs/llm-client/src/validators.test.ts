import { z } from '@lwz/core';
import { jsonReply, lastJsonObject } from './validators';

describe('lastJsonObject', () => {
  it.each([
    ['plain', '{"score": 7, "reason": "ok"}', { score: 7, reason: 'ok' }],
    ['after prose', 'The essay is fine.\nFinal: {"score": 8, "reason": "clear"}', { score: 8, reason: 'clear' }],
    ['in a code fence', 'x\n```json\n{"score": 6, "reason": "a"}\n```\n', { score: 6, reason: 'a' }],
    ['the last of two', '{"score": 1} then revised {"score": 9}', { score: 9 }],
    ['outermost when nested', 'r: {"range": [100, 300], "why": {"a": 1}}', { range: [100, 300], why: { a: 1 } }],
    ['braces inside strings', '{"reason": "uses } and { freely", "score": 5}', { reason: 'uses } and { freely', score: 5 }],
    ['after a stray brace', 'look { here: {"score": 4}', { score: 4 }],
  ])('%s', (_name, text, expected) => {
    expect(lastJsonObject(text)).toEqual(expected);
  });

  it('is undefined without an object', () => {
    expect(lastJsonObject('no json [1, 2]')).toBeUndefined();
    expect(lastJsonObject('{"unterminated": ')).toBeUndefined();
  });
});

describe('jsonReply', () => {
  const score = jsonReply(z.object({ score: z.number().int().min(1).max(10), reason: z.string() }));

  it('accepts a fitting object and says why others fail', () => {
    expect(score('ok {"score": 10, "reason": "great"}')).toEqual({ ok: true, value: { score: 10, reason: 'great' } });
    expect(score('{"score": 11, "reason": "x"}')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^the JSON does not fit: score:/),
    });
    expect(score('I give it 8/10')).toEqual({ ok: false, reason: 'the reply holds no JSON object' });
  });
});

describe('jsonReply: a final object that does not parse', () => {
  const score = jsonReply(z.object({ score: z.number().int() }));
  it.each([
    ['single quotes', 'Initial: {"score": 4}\nFinal:\n{\'score\': 8}'],
    ['a trailing comma', 'Draft {"score": 4}. Final {"score": 8,}'],
    ['a broken outer object around a good one', '{"score": 4} then {\'score\': 8, "detail": {"a": 1}}'],
  ])('is refused (%s), not read as the earlier draft', (_, reply) => {
    const v = score(reply);
    expect(v.ok).toBe(false);
    expect(v.ok ? '' : v.reason).toMatch(/^the last JSON object does not parse/);
  });

  it('still reads the last object when prose in braces or a quoted brace follows it', () => {
    expect(score('{"score": 6} (see {above})')).toEqual({ ok: true, value: { score: 6 } });
    expect(score('{"score": 6, "reason": "he wrote {\'a\': 1} here"}')).toEqual({ ok: true, value: { score: 6 } });
  });
});
