// Retry timing: exponential backoff with "equal jitter" (each step waits between half and all of
// base * 2^k, capped), and the server's own Retry-After / retry-after-ms headers. Pure functions plus an
// abortable sleep; which URL waits how long is url-pool.ts's business.

/** The wait after the `failures`-th consecutive failure (1, 2, ...): uniform in [step/2, step], step = min(max, base * 2^(failures-1)). */
export function backoffDelayMs(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return step / 2 + (step / 2) * random();
}

/**
 * The wait a response asks for, in ms: `retry-after-ms` (OpenAI's header) first, then `Retry-After` as
 * seconds (decimals accepted) or an HTTP date. Undefined when neither is present or readable.
 */
export function parseRetryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  if (Number.isFinite(Number(value))) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Resolve after `ms`, or reject with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 && !signal?.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
