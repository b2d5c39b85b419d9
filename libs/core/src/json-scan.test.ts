import { balancedObjectEnd } from './json-scan';

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
