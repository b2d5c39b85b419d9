// The error a function throws, for tests that assert on its message or class; fails when it returns. Test code only
// (@lwz/llm-client/testing's errorOf is the same for a promise).
export function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}
