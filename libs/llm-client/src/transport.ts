// One HTTP call with everything around it: a slot from the client's semaphore, a URL from the round-robin
// pool, a per-attempt timeout (AbortController), and retries on 429 / 408 / 5xx / timeouts / connection
// errors / malformed bodies, each waiting out the URL's backoff or Retry-After. Other 4xx fail at once.
// Errors are LlmErrors naming the endpoint, URL, status and a body excerpt, with the key redacted.
// Streams (SSE) retry only until their first event; after that a failure is final (see stream()).
import { Agent } from 'undici';
import { parseRetryAfterMs, sleep } from './backoff';
import { LlmError, displayUrl, excerpt, type LlmErrorDetails, type LlmErrorKind } from './errors';
import { AttemptTimer } from './attempt-timer';
import { sseData } from './sse';
import { UrlPool, type UrlPick, type UrlPoolTiming } from './url-pool';
import { Semaphore } from './semaphore';

/**
 * Node's fetch gives up waiting for headers, and between body chunks, after 300 s (undici's defaults) whatever the
 * caller's timeout: a long non-streamed answer (minutes of generation on a vLLM server) then failed as a connection
 * error at 300 s and was retried from scratch. Those limits are off here; the per-attempt timer (timeoutMs) governs.
 */
export const LONG_ANSWERS = new Agent({ headersTimeout: 0, bodyTimeout: 0 });

export interface TransportSettings extends UrlPoolTiming {
  baseUrls: readonly string[];
  apiKey?: string;
  /** the variable name, for hints in 401/403 messages */
  apiKeyEnv?: string;
  timeoutMs: number;
  maxRetries: number;
  concurrency: number;
}

export interface CallSpec {
  /** a label for messages: 'completions', 'chat', 'models', ... */
  endpoint: string;
  method: 'GET' | 'POST';
  /** path after the base URL, e.g. '/completions' */
  path: string;
  body?: unknown;
  signal?: AbortSignal;
}

interface Failure {
  kind: Exclude<LlmErrorKind, 'aborted' | 'interrupted' | 'invalid-reply'>;
  retryable: boolean;
  url: string;
  detail: string;
  status?: number;
  body?: string;
  retryAfterMs?: number;
}

/** Thrown by a response reader to fail the attempt (retried unless `retryable` is false). */
export class AttemptFailure extends Error {
  constructor(readonly failure: Omit<Failure, 'url'>) {
    super(failure.detail);
  }
}

export function malformed(detail: string, body: string, retryable = true): AttemptFailure {
  return new AttemptFailure({ kind: 'malformed', retryable, detail, body });
}

const HTTP_HINTS: Record<number, string> = {
  400: 'the server rejected the request',
  404: 'is the base URL right? it must end where /completions starts, usually with /v1',
  422: 'the server rejected the request',
};

export class Transport {
  readonly counters = { attempts: 0, retries: 0 };
  private readonly pool: UrlPool;
  private readonly slots: Semaphore;

  constructor(private readonly settings: TransportSettings) {
    this.pool = new UrlPool(settings.baseUrls, settings);
    this.slots = new Semaphore(settings.concurrency);
  }

  private headers(stream: boolean): Record<string, string> {
    const h: Record<string, string> = { accept: stream ? 'text/event-stream' : 'application/json' };
    if (this.settings.apiKey) h.authorization = `Bearer ${this.settings.apiKey}`;
    return h;
  }

  /**
   * Run `read` on a 2xx response, retrying as configured. With `keepOpen` the slot and the (idle) timer
   * stay with the caller until it calls `close()`; otherwise both are released when `read` returns.
   */
  async call<T>(
    spec: CallSpec,
    read: (res: Response, timer: AttemptTimer) => Promise<T>,
    keepOpen = false,
  ): Promise<{ value: T; timer: AttemptTimer; close: () => void }> {
    const { maxRetries, timeoutMs } = this.settings;
    const failures: Failure[] = [];
    let avoid: number | undefined;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      // pick the URL after the slot is ours, so the pick sees failures that happened while we queued
      let release: () => void;
      let pick: UrlPick;
      for (;;) {
        release = await this.slots.acquire();
        if (spec.signal?.aborted) {
          release();
          this.throwAborted(spec, attempt);
        }
        pick = this.pool.pick(Date.now(), avoid);
        if (pick.waitMs <= 0) break;
        release();
        await sleep(pick.waitMs, spec.signal).catch(() => this.throwAborted(spec, attempt));
      }
      const timer = new AttemptTimer(timeoutMs, spec.signal);
      this.counters.attempts += 1;
      if (attempt > 0) this.counters.retries += 1;
      const url = pick.url + spec.path;
      try {
        const res = await fetch(url, {
          method: spec.method,
          headers: spec.body === undefined ? this.headers(keepOpen) : { ...this.headers(keepOpen), 'content-type': 'application/json' },
          body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
          signal: timer.signal,
          dispatcher: LONG_ANSWERS,
        } as RequestInit);
        if (!res.ok) throw this.httpFailure(res, await res.text());
        const value = await read(res, timer);
        this.pool.success(pick.index);
        const close = () => {
          timer.clear(true);
          release();
        };
        if (!keepOpen) {
          timer.clear();
          release();
        }
        return { value, timer, close };
      } catch (e) {
        timer.clear(true);
        release();
        if (!(e instanceof AttemptFailure) && spec.signal?.aborted) this.throwAborted(spec, attempt + 1);
        const failure = this.classify(e, timer, url);
        failures.push(failure);
        if (!failure.retryable) throw this.finalError(spec, failures, false);
        this.pool.failure(pick.index, Date.now(), failure.retryAfterMs);
        avoid = pick.index;
      }
    }
    throw this.finalError(spec, failures, true);
  }

  /** The `data` payloads of an SSE response, the first one checked by `checkFirst` inside the retry loop. */
  async *stream(spec: CallSpec, checkFirst: (data: string) => void): AsyncGenerator<string> {
    const opened = await this.call(
      spec,
      async (res, timer) => {
        const type = res.headers.get('content-type') ?? '';
        if (!type.includes('text/event-stream') || !res.body) {
          throw malformed(`expected an event stream, got content-type "${type}"`, await res.text(), false);
        }
        const events = sseData(res.body, () => timer.touch());
        const first = await events.next();
        if (first.done) throw malformed('the stream ended before its first event', '');
        checkFirst(first.value);
        return { first: first.value, events };
      },
      true,
    );
    const { first, events } = opened.value;
    let delivered = 0;
    try {
      delivered += 1;
      // the silence limit is the server's: the clock stops while the consumer holds an event (it reads no
      // bytes meanwhile, so none could touch it) and restarts when it asks for the next
      opened.timer.pause();
      yield first;
      opened.timer.touch();
      for (;;) {
        let next: IteratorResult<string>;
        try {
          next = await events.next();
        } catch (e) {
          if (spec.signal?.aborted) this.throwAborted(spec, 1);
          const how = opened.timer.timedOut ? `went silent for ${this.settings.timeoutMs} ms` : `broke (${networkDetail(e)})`;
          throw this.error(spec, `the stream ${how} after ${delivered} events; not retried, since they were delivered`, {
            kind: opened.timer.timedOut ? 'timeout' : 'interrupted',
            attempts: 1,
          });
        }
        if (next.done) return;
        delivered += 1;
        opened.timer.pause();
        yield next.value;
        opened.timer.touch();
      }
    } finally {
      opened.close(); // aborts the request if the consumer left early, and frees the slot
      await events.return(undefined).catch(() => undefined);
    }
  }

  /** An LlmError for this call (message redacted). */
  error(spec: CallSpec, text: string, details: Omit<LlmErrorDetails, 'endpoint'>): LlmError {
    return new LlmError(`${spec.endpoint}: ${text}`, { endpoint: spec.endpoint, ...details }, [this.settings.apiKey]);
  }

  private throwAborted(spec: CallSpec, attempts: number): never {
    throw this.error(spec, 'aborted by the caller', { kind: 'aborted', attempts });
  }

  private httpFailure(res: Response, body: string): AttemptFailure {
    const status = res.status;
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500; // the OpenAI SDK's set
    const retryAfterMs = parseRetryAfterMs(res.headers);
    let hint = HTTP_HINTS[status] ?? '';
    // a 404 naming the model is about the model, not the URL (vLLM: "The model `m` does not exist.")
    if (status === 404 && /\bmodel\b/i.test(body)) hint = 'is the model name right? GET <baseUrl>/models lists the served ones';
    if (status === 401 || status === 403) {
      hint = this.settings.apiKeyEnv
        ? `check the key in the environment variable ${this.settings.apiKeyEnv}`
        : 'the server wants a key: name the environment variable that holds it (apiKeyEnv in a config; a judge on the command line: --judge-key-env)';
    }
    return new AttemptFailure({ kind: 'http', retryable, status, body, retryAfterMs, detail: `HTTP ${status}${hint ? ` (${hint})` : ''}` });
  }

  private classify(e: unknown, timer: AttemptTimer, url: string): Failure {
    if (e instanceof AttemptFailure) return { ...e.failure, url };
    if (timer.timedOut) return { kind: 'timeout', retryable: true, url, detail: `no answer within ${this.settings.timeoutMs} ms` };
    const detail = networkDetail(e);
    // a certificate the client refuses, or a port fetch will not use, fails the same way on every try
    const fixed = /CERT|SELF_SIGNED|ERR_TLS|ERR_SSL|bad port/i.test(detail);
    return { kind: 'connection', retryable: !fixed, url, detail: `connection failed (${detail})` };
  }

  private finalError(spec: CallSpec, failures: Failure[], exhausted: boolean): LlmError {
    const secrets = [this.settings.apiKey];
    const last = failures[failures.length - 1];
    const body = last.body === undefined ? undefined : excerpt(last.body, secrets);
    const where = `${spec.method} ${displayUrl(last.url)}`;
    const lastText = `${last.detail}${body ? `: ${JSON.stringify(body)}` : ''}`;
    const text = exhausted
      ? `${where} failed after ${failures.length} attempts (maxRetries ${this.settings.maxRetries}); last: ${lastText}; ` +
        `all: ${failures.map((f) => (f.status ? `HTTP ${f.status}` : f.kind)).join(', ')}`
      : `${where}: ${lastText} (not retried)`;
    return this.error(spec, text, {
      kind: last.kind,
      attempts: failures.length,
      status: last.status,
      bodyExcerpt: body,
      retryable: exhausted,
    });
  }
}

function networkDetail(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return e instanceof Error ? e.message : String(e);
}
