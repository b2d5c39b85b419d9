// A deadline for an awaited promise in a test: a regression that leaves a request waiting forever (a slot never
// given back, a retry never sent) then fails the test within seconds, naming what did not finish, instead of
// holding it until jest's own timeout. Test code only; the deadline is far above the normal time, so it does not
// make a slow machine's run flaky.
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
