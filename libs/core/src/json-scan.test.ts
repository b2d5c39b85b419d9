import { balancedObjectEnd, findLastJsonObject, replyAnswer } from './json-scan';

describe('balancedObjectEnd', () => {
  it.each([
    ['{"a": 1} tail', 0, 8],
    ['x {"a": {"b": [1, {}]}} y', 2, 23],
    ['{"s": "a } inside"}', 0, 19],
    ['{"s": "an \\" escaped quote }"} z', 0, 30],
    ['{"open": {"never": 1}', 0, -1],
    ['{"s": "unterminated }', 0, -1],
  ])('%j from %d ends at %d', (text, start, end) => {
    expect(balancedObjectEnd(text, start)).toBe(end);
    if (end > 0) expect(() => JSON.parse(text.slice(start, end))).not.toThrow();
  });

  it('starts where it is told, so a scan can try each "{" in turn', () => {
    const text = 'a {b} {"c": 2}';
    expect(balancedObjectEnd(text, 2)).toBe(5);
    expect(balancedObjectEnd(text, 6)).toBe(text.length);
  });
});

describe('replyAnswer', () => {
  it.each([
    ['plain answer', 'My verdict: [[A>B]]', 'My verdict: [[A>B]]'],
    ['a closed think block', '<think>maybe [[B>A]]</think>\nVerdict [[A>B]]', '\nVerdict [[A>B]]'],
    ['no opening tag (the template opened it)', 'weighing {"score": 3}\n</think>\n\nFinal {"score": 9}', '\n\nFinal {"score": 9}'],
    ['two think blocks: after the last', '<think>a</think>x<think>b</think>y', 'y'],
    ['upper case tags', '<THINK>a</THINK>y', 'y'],
  ])('%s', (_, reply, text) => {
    expect(replyAnswer(reply)).toEqual({ ok: true, text });
  });

  it('refuses a think block that never closes (a reply cut off while reasoning)', () => {
    const v = replyAnswer('<think>If weak: {"score": 2} but actually');
    expect(v).toEqual({ ok: false, reason: expect.stringMatching(/never closes/) });
  });
});

describe('findLastJsonObject', () => {
  it.each([
    ['the last of two', 'a {"x": 1} b {"x": 2} c', undefined, { x: 2 }],
    ['the outermost, not what it nests', '{"x": {"y": 1}}', undefined, { x: { y: 1 } }],
    ['only objects with the key', '{"range": [1, 2]} then {"note": "n"}', 'range', { range: [1, 2] }],
    ['a key nested in another object is not the answer', '{"answer": {"range": [1, 2]}}', 'range', undefined],
    ['prose in braces after it', '{"x": 1} {not json}', undefined, { x: 1 }],
    ['a broken block without the key after it', '{"range": [1, 2]} {\'note\': 1}', 'range', { range: [1, 2] }],
  ])('%s', (_, text, key, value) => {
    expect(findLastJsonObject(text, key)).toEqual(value === undefined ? undefined : { ok: true, value });
  });

  it.each([
    ['single quotes', '{"x": 1} then {\'x\': 2}'],
    ['a trailing comma', '{"x": 1} then {"x": 2,}'],
  ])('refuses a final object that does not parse (%s) instead of the draft before it', (_, text) => {
    expect(findLastJsonObject(text)).toEqual({ ok: false, reason: expect.stringMatching(/^the last JSON object does not parse/) });
  });
});

describe('json-scan edges', () => {
  it('an unclosed <think> is found whatever its case or spacing', () => {
    expect(replyAnswer('<THINK>weighing {"score": 1}').ok).toBe(false);
    expect(replyAnswer('<think >weighing').ok).toBe(false);
  });

  it('shows an unparseable last object cut to 117 characters and "..."', () => {
    const long = `{'score': 1, 'reason': '${'x'.repeat(200)}'}`;
    const found = findLastJsonObject(long);
    expect(found).toEqual({
      ok: false,
      reason: `the last JSON object does not parse (double quotes, no trailing commas): ${long.slice(0, 117)}...`,
    });
  });
});
