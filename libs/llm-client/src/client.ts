// LlmClient: the OpenAI-compatible calls the project makes (completions, chat, their SSE streams,
// models) over one Transport (retries, round-robin, timeouts, concurrency) and an optional disk cache.
// Config in, typed results out; every response is checked with zod before anyone sees it. Not a general
// OpenAI SDK: no tools, embeddings, images or batch files.
import { redactSecrets } from '@lwz/core';
import type { z } from '@lwz/core';
import { askUntilValid, type AskOptions, type AskResult, type Validator } from './ask-until-valid';
import { ResponseCache, type CacheStats } from './cache';
import { parseLlmClientConfig, resolveApiKey, type LlmClientConfig, type LlmClientConfigInput } from './config';
import {
  chatBody,
  completionBody,
  toChatResult,
  toCompletionResult,
  type ChatRequest,
  type ChatResult,
  type CompletionRequest,
  type CompletionResult,
} from './requests';
import { Transport, malformed, type CallSpec } from './transport';
import {
  chatChunkSchema,
  chatResponseSchema,
  completionChunkSchema,
  completionResponseSchema,
  modelsResponseSchema,
  type ModelInfo,
} from './wire';
import { toChatDeltas, toCompletionDeltas, type ChatDelta, type CompletionDelta } from './stream-deltas';

export interface LlmClientOptions {
  /** where the API key variable is looked up (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** the jitter source, e.g. a seeded `new Rng(1)` from @lwz/core in tests (default Math.random) */
  rng?: { next(): number };
}

export interface CallOptions {
  signal?: AbortSignal;
  /** re-ask number: part of the cache key, so a re-ask is a new call and a rerun replays each ask (askUntilValid sets it) */
  attempt?: number;
  /** false: skip the cache for this call */
  cache?: boolean;
}

export interface LlmClientStats {
  /** calls of completions/chat/models (streams included), whether served from cache or not */
  requests: number;
  /** requests that went to the network (not served by the cache or by an identical request in flight) */
  calls: number;
  /** HTTP attempts, retries included */
  attempts: number;
  retries: number;
  /** requests that ended in an error */
  failures: number;
  /** undefined when the client has no cacheDir */
  cache?: CacheStats;
}

export class LlmClient {
  readonly config: LlmClientConfig;
  private readonly transport: Transport;
  private readonly cache?: ResponseCache;
  private readonly counts = { requests: 0, calls: 0, failures: 0 };
  private readonly apiKey: string | undefined;

  /** `config` is validated here (parseLlmClientConfig); the key is read from the variable it names. */
  constructor(config: LlmClientConfigInput | LlmClientConfig, options: LlmClientOptions = {}) {
    this.config = parseLlmClientConfig(config);
    const rng = options.rng;
    this.apiKey = resolveApiKey(this.config, options.env ?? process.env);
    this.transport = new Transport({
      ...this.config,
      apiKey: this.apiKey,
      random: rng ? () => rng.next() : Math.random,
    });
    if (this.config.cacheDir) this.cache = new ResponseCache(this.config.cacheDir);
  }

  get model(): string {
    return this.config.model;
  }

  /** POST /completions: `n` answers to one prompt, with finish reasons and, when asked, token log-probs. */
  async completions(request: CompletionRequest, options: CallOptions = {}): Promise<CompletionResult> {
    const body = completionBody(request, this.config.model);
    const spec: CallSpec = { endpoint: 'completions', method: 'POST', path: '/completions', body, signal: options.signal };
    const { raw, cached } = await this.send(spec, completionResponseSchema, options);
    return toCompletionResult(completionResponseSchema.parse(raw), cached);
  }

  /** POST /chat/completions. */
  async chat(request: ChatRequest, options: CallOptions = {}): Promise<ChatResult> {
    const body = chatBody(request, this.config.model);
    const spec: CallSpec = { endpoint: 'chat', method: 'POST', path: '/chat/completions', body, signal: options.signal };
    const { raw, cached } = await this.send(spec, chatResponseSchema, options);
    return toChatResult(chatResponseSchema.parse(raw), cached);
  }

  /** POST /completions with `stream: true`: text deltas as they arrive (not cached; retried only before the first event). */
  async *streamCompletions(request: CompletionRequest, options: Pick<CallOptions, 'signal'> = {}): AsyncGenerator<CompletionDelta> {
    const body = { ...completionBody(request, this.config.model), stream: true };
    const spec: CallSpec = { endpoint: 'stream completions', method: 'POST', path: '/completions', body, signal: options.signal };
    yield* this.streamOf(spec, completionChunkSchema, toCompletionDeltas);
  }

  /** POST /chat/completions with `stream: true`: content deltas as they arrive. */
  async *streamChat(request: ChatRequest, options: Pick<CallOptions, 'signal'> = {}): AsyncGenerator<ChatDelta> {
    const body = { ...chatBody(request, this.config.model), stream: true };
    const spec: CallSpec = { endpoint: 'stream chat', method: 'POST', path: '/chat/completions', body, signal: options.signal };
    yield* this.streamOf(spec, chatChunkSchema, toChatDeltas);
  }

  /** GET /models (never cached). */
  async models(options: Pick<CallOptions, 'signal'> = {}): Promise<ModelInfo[]> {
    const spec: CallSpec = { endpoint: 'models', method: 'GET', path: '/models', signal: options.signal };
    const { raw } = await this.send(spec, modelsResponseSchema, { ...options, cache: false });
    return modelsResponseSchema.parse(raw).data.map((m) => ({ id: m.id, ownedBy: m.owned_by, maxModelLen: m.max_model_len }));
  }

  /** Chat until `validate` accepts the first choice's content; see askUntilValid. */
  askUntilValid<T>(request: ChatRequest, validate: Validator<T>, options: AskOptions = {}): Promise<AskResult<T>> {
    return askUntilValid((req, opts) => this.chat(req, opts), request, validate, options, [this.apiKey]);
  }

  stats(): LlmClientStats {
    const { attempts, retries } = this.transport.counters;
    return { ...this.counts, attempts, retries, cache: this.cache?.stats() };
  }

  private async send(spec: CallSpec, schema: z.ZodType, options: CallOptions): Promise<{ raw: unknown; cached: boolean }> {
    this.counts.requests += 1;
    // the signal of the call itself: the caller's, or, for identical requests sharing one call through the cache,
    // one that aborts when every caller waiting on it has left
    const call = async (signal: AbortSignal | undefined) => {
      this.counts.calls += 1;
      const { value } = await this.transport.call({ ...spec, signal }, async (res) => {
        // a server that echoes the key back (in a reply's text, as careless proxies do) must not carry it into the
        // disk cache, the results or a report: it is cut out of the body before anything reads it
        const text = redactSecrets(await res.text(), [this.apiKey]);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          throw malformed('the body is not JSON', text);
        }
        const parsed = schema.safeParse(json);
        if (!parsed.success) throw malformed(`unexpected response shape (${describeIssues(parsed.error)})`, text);
        return json;
      });
      return value;
    };
    try {
      if (!this.cache || options.cache === false) return { raw: await call(spec.signal), cached: false };
      const parts = { id: this.config.id, endpoint: spec.path, body: spec.body, attempt: options.attempt };
      const aborted = () => this.transport.error(spec, 'aborted by the caller', { kind: 'aborted', attempts: 0 });
      return await this.cache.getOrCall(parts, call, (raw) => schema.safeParse(raw).success, spec.signal, aborted);
    } catch (e) {
      this.counts.failures += 1;
      throw e;
    }
  }

  private async *streamOf<C, D extends { index: number; finishReason: string | null }>(
    spec: CallSpec,
    schema: z.ZodType<C>,
    toDeltas: (chunk: C) => D[],
  ): AsyncGenerator<D> {
    this.counts.requests += 1;
    this.counts.calls += 1;
    // an event that echoes the key loses it before anything reads it: the error messages below quote events cut to a
    // few hundred characters, and a cut inside the key would leave its start where redaction no longer finds it
    const redact = (data: string) => redactSecrets(data, [this.apiKey]);
    const parse = (data: string): C => {
      const parsed = schema.safeParse(JSON.parse(data));
      if (!parsed.success) throw new Error(describeIssues(parsed.error));
      return parsed.data;
    };
    const checkFirst = (raw: string) => {
      const data = redact(raw);
      if (data === '[DONE]') return;
      const said = streamErrorMessage(data);
      if (said !== undefined) throw malformed(`the stream's first event is an error: ${JSON.stringify(said.slice(0, 300))}`, data);
      try {
        parse(data);
      } catch (e) {
        throw malformed(`the first event is not a valid chunk (${(e as Error).message})`, data);
      }
    };
    let done = false;
    const unfinished = new Set<number>(); // answers seen without their finish reason yet
    let finished = 0;
    try {
      for await (const raw of this.transport.stream(spec, checkFirst)) {
        const data = redact(raw);
        if (data === '[DONE]') {
          done = true;
          break;
        }
        // a server that fails mid-stream says so in an event of its own: its message, not an empty or invalid chunk
        const said = streamErrorMessage(data);
        if (said !== undefined) {
          throw this.transport.error(spec, `the server ended the stream with an error: ${JSON.stringify(said.slice(0, 300))}`, {
            kind: 'interrupted',
            attempts: 1,
          });
        }
        let chunk: C;
        try {
          chunk = parse(data);
        } catch (e) {
          throw this.transport.error(
            spec,
            `a stream event is not a valid chunk (${(e as Error).message}): ${JSON.stringify(data.slice(0, 200))}`,
            {
              kind: 'malformed',
              attempts: 1,
            },
          );
        }
        for (const d of toDeltas(chunk)) {
          if (d.finishReason === null) unfinished.add(d.index);
          else {
            unfinished.delete(d.index);
            finished++;
          }
          yield d;
        }
      }
      // some servers (older TGI, forks of llama.cpp) end a complete stream without [DONE]: complete when every
      // answer it began has its finish reason, as the OpenAI SDK reads it; cut short otherwise
      if (!done && (finished === 0 || unfinished.size > 0)) {
        throw this.transport.error(spec, 'the stream ended before every answer had its finish reason (no [DONE] event)', {
          kind: 'interrupted',
          attempts: 1,
        });
      }
    } catch (e) {
      this.counts.failures += 1;
      throw e;
    }
  }
}

/** The message of an `{"error": ...}` event (OpenAI and vLLM shapes), or undefined when the data is not one. */
function streamErrorMessage(data: string): string | undefined {
  if (!data.includes('"error"')) return undefined; // the common case: a chunk, parsed once, by the caller
  try {
    const v = JSON.parse(data) as { error?: unknown };
    if (v && typeof v === 'object' && 'error' in v) {
      const e = v.error as { message?: unknown } | string;
      return typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : JSON.stringify(e);
    }
  } catch {
    // not JSON at all
  }
  return undefined;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
