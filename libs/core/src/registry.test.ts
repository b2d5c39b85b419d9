import { createRegistry } from './registry';

describe('createRegistry', () => {
  it('returns what was registered, lists names in registration order, and says what is valid for an unknown name', () => {
    const r = createRegistry<number>('widget');
    expect(r.names()).toEqual([]);
    expect(() => r.get('a')).toThrow('unknown widget "a" (valid: none)');
    r.register('b', 2);
    r.register('a', 1);
    expect(r.get('a')).toBe(1);
    expect(r.get('b')).toBe(2);
    expect(r.has('a')).toBe(true);
    expect(r.has('c')).toBe(false);
    expect(r.names()).toEqual(['b', 'a']);
    expect(() => r.get('c')).toThrow('unknown widget "c" (valid: b, a)');
  });

  it('refuses a second registration of one name and keeps the first item', () => {
    const r = createRegistry<string>('thing');
    r.register('x', 'first');
    expect(() => r.register('x', 'second')).toThrow('thing "x" is already registered');
    expect(r.get('x')).toBe('first');
  });
  it('returns falsy items (0, empty string) like any other', () => {
    const r = createRegistry<number | string>('weight');
    r.register('zero', 0);
    r.register('empty', '');
    expect(r.get('zero')).toBe(0);
    expect(r.get('empty')).toBe('');
  });
});
