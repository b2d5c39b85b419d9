// What the chat judges share: the follow-up that re-asks a judge whose reply could not be used (its reply
// and the reason go back to it, so a real judge can correct itself), asking until valid but giving up
// without an exception when every ask was unusable (a judgment the judge would not give is a result:
// its replies are cached, so throwing would fail every rerun the same way), settling a batch so every
// judgment that finished is in the cache before the first failure is reported, and short hashes for ids.
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { InvalidReplyError, type AskAttempt, type AskOptions, type ChatRequest, type LlmClient, type Validator } from '@lwz/llm-client';

/** askUntilValid `revise`: show the judge its unusable reply and say what the reply must end with. */
export function followUp(ending: string): (request: ChatRequest, rejected: AskAttempt) => ChatRequest {
  return (request, rejected) => ({
    ...request,
    messages: [
      ...request.messages,
      { role: 'assistant', content: rejected.reply },
      { role: 'user', content: `That reply cannot be used: ${rejected.reason ?? 'unreadable'}. Answer again and end with ${ending}.` },
    ],
  });
}

/**
 * Run `fn` over every item with all of them in flight (the client's concurrency limit queues them) and wait for all
 * to settle, so every judgment that finished is cached; then throw the first error, naming its item (`describe`).
 * The first error (a judge that is down, after its retries; a request the server refuses) aborts the rest through
 * the signal `fn` gets, so a run of a thousand items fails in the time of one instead of retrying each in turn.
 * An unusable reply is not an error here (askOrGiveUp returns it).
 */
export async function settleAll<I, O>(
  items: readonly I[],
  fn: (item: I, index: number, signal: AbortSignal) => Promise<O>,
  options: { signal?: AbortSignal; describe?: (item: I, index: number) => string } = {},
): Promise<O[]> {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  setMaxListeners(0, signal); // one listener per item in flight, by design
  let first: { error: unknown; index: number } | undefined;
  const settled = await Promise.allSettled(
    items.map((item, i) =>
      fn(item, i, signal).catch((error: unknown) => {
        if (!first) {
          first = { error, index: i };
          stop.abort(error);
        }
        throw error;
      }),
    ),
  );
  if (first) {
    const { error, index } = first;
    if (options.describe && error instanceof Error) error.message = `${options.describe(items[index], index)}: ${error.message}`;
    throw error;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<O>).value);
}

/** A prompt shortened for an error message: which item failed. */
export function excerpt(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}...` : flat);
}

/**
 * The prompt version a judge's id names: a user template's hash (which covers the system message too), else the
 * built-in version (`builtIn`, or `o.promptVersion` for a command's own template), followed by the hash of a
 * system message of the user's (`o.userSystem`), since results name the judge by its id.
 */
export function promptVersion(
  o: { template?: unknown; promptVersion?: string; userSystem?: boolean },
  templateText: string,
  system: string | null,
  builtIn: string,
): string {
  if (o.template !== undefined && o.promptVersion === undefined) return `custom-${shortHash(templateText, system ?? '')}`;
  const version = o.promptVersion ?? builtIn;
  return o.userSystem ? `${version}+system-${shortHash(system ?? '')}` : version;
}

/** First 8 hex digits of sha256: tells prompt versions apart in ids. */
export function shortHash(...parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\u0000');
  return h.digest('hex').slice(0, 8);
}

export type Asked<T> =
  | { ok: true; value: T; reply: string; asks: number; cached: boolean }
  | { ok: false; reply: string; reason: string; asks: number; cached: boolean };

/** client.askUntilValid, with "no usable reply in maxAttempts asks" returned as `ok: false` (other errors throw). */
export async function askOrGiveUp<T>(
  client: LlmClient,
  request: ChatRequest,
  validate: Validator<T>,
  options: AskOptions,
): Promise<Asked<T>> {
  try {
    const res = await client.askUntilValid(request, validate, options);
    return { ok: true, value: res.value, reply: res.reply, asks: res.attempts.length, cached: res.attempts.every((a) => a.cached) };
  } catch (e) {
    if (!(e instanceof InvalidReplyError)) throw e;
    const last = e.asks[e.asks.length - 1];
    return {
      ok: false,
      reply: last?.reply ?? '',
      reason: last?.reason ?? 'no usable reply',
      asks: e.asks.length,
      cached: e.asks.every((a) => a.cached),
    };
  }
}
