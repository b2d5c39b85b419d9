// The error a promise rejects with, for tests that assert on its message (e.g. that a key never appears in
// it); fails when the promise resolves. Test code only.
export async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}
