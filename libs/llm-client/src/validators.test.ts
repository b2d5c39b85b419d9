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
