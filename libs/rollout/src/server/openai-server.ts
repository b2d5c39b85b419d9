// `serve`: an OpenAI-compatible HTTP server over one LocalRollout. Every request's prompts join the same
// continuous batch (the engine), so concurrent clients share the decode steps. Safe defaults: binds
// 127.0.0.1; bodies over maxBodyBytes get 413 before they are read; bad JSON or fields get 400 with an
// OpenAI-style {error: {message, type, param, code}}; at most maxConcurrent requests run and maxQueued wait,
// the rest get 429 with Retry-After; a request not fully received within 60 s gets 408; a client that disconnects cancels its answers. Endpoints: GET /health,
// GET /v1/models (and /v1/models/{id}), POST /v1/completions and /v1/chat/completions (JSON, or server-sent events with `stream`).
// drain() stops it gracefully (shutdown.ts): no new connections, 503 for new requests, those in flight finish.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { codePoints, type z } from '@lwz/core';
import { endOfSequenceIds } from '@lwz/model';
import type { Answer } from '../answer';
import type { GroupHandle } from '../engine';
import type { LocalRollout } from '../local-backend';
import { HttpError, planChat, planCompletion, type PlannedRequest, type ServeLimits, type ServeModel } from './openai-requests';
import {
  chatLogprobs,
  chatReply,
  choiceIndex,
  chunk,
  completionLogprobs,
  completionReply,
  finishPart,
  settledTokens,
  usage,
  type ReplyContext,
} from './openai-responses';
import { ChatBodySchema, CompletionBodySchema, firstIssue } from './openai-schemas';
import { listenOn, urlHost } from './listen';
import { readBody } from './read-body';
import { Shutdown, type DrainReport } from './shutdown';

export interface ServeOptions {
  /** default 127.0.0.1 (loopback only) */
  host?: string;
  /** default 8000; 0 picks a free port */
  port?: number;
  /** the model name clients send (default "lwz") */
  modelName?: string;
  /** request bodies larger than this get 413 (default 1 MiB) */
  maxBodyBytes?: number;
  /** most new tokens one choice may ask for (default: the context length) */
  maxTokens?: number;
  /** most choices per prompt (default 64) */
  maxN?: number;
  /** requests generating at once (default 64) */
  maxConcurrent?: number;
  /** requests waiting for a turn; beyond that, 429 (default 256) */
  maxQueued?: number;
  /** a request whose headers and body have not all arrived after this many ms gets 408 (default 60 s; answers stream for longer) */
  requestTimeoutMs?: number;
}

export interface ServerStats {
  requests: number;
  /** replies by HTTP status */
  status: Record<number, number>;
  running: number;
  waiting: number;
  /** requests received and not yet answered: body still arriving, waiting or running */
  inFlight: number;
  /** drain() (or close()) has begun: new requests get 503 */
  stopping: boolean;
}

export interface RunningServer {
  /** base URL including /v1, as OpenAI clients take it */
  readonly url: string;
  readonly port: number;
  stats(): ServerStats;
  /**
   * Stop gracefully, as uvicorn and vLLM do: take no new connections, answer new requests on kept-alive connections
   * 503 (and /health "draining"), let the requests in flight finish (streams end with their last chunk and [DONE])
   * for up to `graceMs`, then close, cutting off what is left. Resolves once closed, saying how many it cut off.
   */
  drain(graceMs: number): Promise<DrainReport>;
  /** Close now: requests in flight are cut off (their clients see the connection close); ends a drain in progress. */
  close(): Promise<void>;
}

/** At most `limit` holders; up to `queue` more wait in order; the rest are refused. */
class Admission {
  running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(
    private readonly limit: number,
    private readonly queue: number,
  ) {}

  get waitingCount(): number {
    return this.waiting.length;
  }

  /**
   * A turn, or null when `signal` aborts first (the client left while it waited: it leaves the queue, and no work is
   * done for it).
   */
  async acquire(signal?: AbortSignal): Promise<(() => void) | null> {
    if (signal?.aborted) return null;
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.queue)
        throw new HttpError(429, `server busy: ${this.running} requests running and ${this.waiting.length} waiting; retry later`);
      const admitted = await new Promise<boolean>((resolve) => {
        const turn = (): void => {
          signal?.removeEventListener('abort', leave);
          resolve(true);
        };
        const leave = (): void => {
          const i = this.waiting.indexOf(turn);
          if (i >= 0) this.waiting.splice(i, 1);
          resolve(false);
        };
        this.waiting.push(turn);
        signal?.addEventListener('abort', leave, { once: true });
      });
      if (!admitted) return null;
    } else this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const errorBody = (e: HttpError) => ({ error: { message: e.message, type: e.type, param: e.param, code: e.status } });
const asHttpError = (e: unknown): HttpError => (e instanceof HttpError ? e : new HttpError(500, `internal error: ${(e as Error).message}`));

function sendError(res: ServerResponse, e: HttpError): void {
  // 413: the rest of the body is not read; 503: the server is shutting down, the client should go elsewhere
  const headers: Record<string, string> =
    e.status === 429 ? { 'retry-after': '1' } : e.status === 413 || e.status === 503 ? { connection: 'close' } : {};
  sendJson(res, e.status, errorBody(e), headers);
}

function parseBody<S extends z.ZodType>(schema: S, text: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new HttpError(400, 'the body must be a JSON object');
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const { message, param } = firstIssue(parsed.error);
    throw new HttpError(400, message, param);
  }
  return parsed.data;
}

/** What the request handlers need of one server: its engine, the served model, the limits and the admission queue. */
interface ServerScope {
  rollout: LocalRollout;
  model: ServeModel;
  limits: ServeLimits;
  admission: Admission;
  modelCard: { id: string; object: string; created: number; owned_by: string; max_model_len: number };
  maxBody: number;
  shutdown: Shutdown;
}

/**
 * One admitted request's answers: every prompt submitted to the engine (a refused one is a 400 before any header),
 * then the JSON reply, or the server-sent events as the answers grow (a failure after the headers is the stream's
 * last event). A client that leaves (`gone`) cancels its answers.
 */
async function generate(s: ServerScope, res: ServerResponse, plan: PlannedRequest, chat: boolean, gone: AbortSignal): Promise<void> {
  if (gone.aborted) return; // left between its turn and now: nothing to answer
  const ctx: ReplyContext = {
    id: `${chat ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`,
    created: Math.floor(Date.now() / 1000),
    model: s.limits.modelName,
    tokenizer: s.model.tokenizer,
    plan,
  };
  const n = plan.config.n;
  // per answer: the tokens whose log-probs went out, and the characters (code points) of text that did
  const sent = new Map<Answer, { tokens: number; chars: number }>();
  const write = (data: unknown): void => void res.write(`data: ${JSON.stringify(data)}\n\n`);
  const onDelta = (p: number) => (a: Answer, delta: string) => {
    if (!plan.stream) return;
    const prev = sent.get(a) ?? { tokens: 0, chars: 0 };
    const index = choiceIndex(a, p, n);
    const chars = prev.chars + codePoints(delta);
    const finish = a.finish ? finishPart(a) : { finish_reason: null };
    let to = a.tokenIds.length;
    if (chat)
      write(
        chunk(ctx, true, { index, delta: delta ? { content: delta } : {}, logprobs: chatLogprobs(ctx, a, prev.tokens, to), ...finish }),
      );
    else {
      // a token whose text begins in text still held back (it may yet be cut at a stop string) waits for a later chunk,
      // so every text_offset sent is the one the whole reply gives
      to = settledTokens(a, prev.tokens, chars);
      write(chunk(ctx, false, { index, text: delta, logprobs: completionLogprobs(ctx, a, prev.tokens, to, chars), ...finish }));
    }
    sent.set(a, { tokens: to, chars });
  };
  const handles: GroupHandle[] = [];
  const cancel = (): void => handles.forEach((h) => h.cancel());
  gone.addEventListener('abort', cancel, { once: true });
  try {
    plan.prompts.forEach((promptIds, p) =>
      handles.push(
        s.rollout.engine.submit({
          promptIds,
          requestSeed: plan.seeds[p],
          maxNewTokens: plan.maxNewTokens[p],
          config: plan.config,
          stopTokenIds: plan.stopTokenIds,
          onDelta: onDelta(p),
        }),
      ),
    );
  } catch (e) {
    cancel();
    throw new HttpError(400, (e as Error).message);
  }
  // the headers only once every prompt is accepted, so a refused one is a plain 4xx (deltas come from later engine steps)
  if (plan.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    if (chat)
      for (let j = 0; j < n; j++)
        write(chunk(ctx, true, { index: j, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }));
  }
  let groups: Answer[][];
  try {
    groups = await Promise.all(handles.map((h) => h.done));
  } catch (e) {
    if (!plan.stream) throw e;
    // a stream that fails after its headers: the error as its last event, so a client does not take the cut-off text as whole
    return void res.end(`data: ${JSON.stringify(errorBody(asHttpError(e)))}\n\n`);
  }
  if (!plan.stream) return sendJson(res, 200, chat ? chatReply(ctx, groups) : completionReply(ctx, groups));
  if (plan.includeUsage) write({ ...chunk(ctx, chat, {}), choices: [], usage: usage(plan, groups) });
  res.end('data: [DONE]\n\n');
}

/** GET /health, /v1/models and /v1/models/{id}; false for any other request. */
function answerGet(s: ServerScope, req: IncomingMessage, res: ServerResponse, path: string): boolean {
  if (req.method !== 'GET') return false;
  if (path === '/health') {
    const load = s.rollout.engine.load;
    // draining: 503, so a load balancer stops sending here while the requests in flight finish
    const draining = s.shutdown.stopping;
    sendJson(res, draining ? 503 : 200, {
      status: draining ? 'draining' : 'ok',
      model: s.limits.modelName,
      requests_running: s.admission.running,
      requests_waiting: s.admission.waitingCount,
      answers_running: load.running,
      answers_queued: load.queued,
    });
    return true;
  }
  if (path === '/v1/models') {
    sendJson(res, 200, { object: 'list', data: [s.modelCard] });
    return true;
  }
  if (!path.startsWith('/v1/models/')) return false;
  const raw = path.slice('/v1/models/'.length);
  let id = raw;
  try {
    id = decodeURIComponent(raw);
  } catch {
    // not percent-encoding: taken as it is
  }
  if (id !== s.limits.modelName)
    throw new HttpError(
      404,
      `model ${JSON.stringify(id)} is not served here; this server serves ${JSON.stringify(s.limits.modelName)}`,
      'model',
      'not_found_error',
    );
  sendJson(res, 200, s.modelCard);
  return true;
}

/** One request: the GET routes, or a completion body read, validated, admitted (or queued, or 429) and answered. */
async function handle(s: ServerScope, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '');
  if (s.shutdown.stopping && !(req.method === 'GET' && path === '/health'))
    throw new HttpError(
      503,
      'this server is shutting down: it finishes the requests it has and takes no new ones; send this request to another server, or retry once it is back',
    );
  if (answerGet(s, req, res, path)) return;
  const chat = path === '/v1/chat/completions';
  if (!chat && path !== '/v1/completions') throw new HttpError(404, `no route ${req.method} ${path}`, null, 'not_found_error');
  if (req.method !== 'POST') throw new HttpError(405, `${path} takes POST`);
  const text = await readBody(req, s.maxBody);
  const plan = chat
    ? planChat(parseBody(ChatBodySchema, text), s.model, s.limits)
    : planCompletion(parseBody(CompletionBodySchema, text), s.model, s.limits);
  // a client that disconnects while queued leaves the queue; one that disconnects while generating cancels its answers
  const left = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) left.abort();
  });
  const release = await s.admission.acquire(left.signal);
  if (!release) return;
  try {
    await generate(s, res, plan, chat, left.signal);
  } finally {
    release();
  }
}

export async function startServer(rollout: LocalRollout, opts: ServeOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const model: ServeModel = {
    tokenizer: rollout.tokenizer,
    contextLength: rollout.contextLength,
    eosTokenId: endOfSequenceIds(rollout.model.config),
    maxNewTokensWithinBudget: (promptLength) => rollout.engine.maxNewTokensWithinBudget(promptLength),
  };
  const limits: ServeLimits = {
    modelName: opts.modelName ?? 'lwz',
    maxTokens: opts.maxTokens ?? rollout.contextLength,
    maxN: opts.maxN ?? 64,
  };
  const stats = { requests: 0, status: {} as Record<number, number> };
  const count = (status: number): void => void (stats.status[status] = (stats.status[status] ?? 0) + 1);

  // Node's requestTimeout covers receiving the request only, never the answer: a client that sends half a body and
  // waits would otherwise hold its connection (and the part it sent) for good
  const requestTimeout = opts.requestTimeoutMs ?? 60_000;
  const timeouts = {
    requestTimeout,
    headersTimeout: Math.min(30_000, requestTimeout),
    connectionsCheckingInterval: Math.min(1_000, requestTimeout),
  };
  const server = createServer(timeouts, (req, res) => {
    stats.requests++;
    res.on('finish', () => count(res.statusCode));
    if (!scope.shutdown.stopping) scope.shutdown.track(res); // one that comes while stopping is refused, not waited for
    handle(scope, req, res).catch((e: unknown) => {
      const err = asHttpError(e);
      if (!res.headersSent) sendError(res, err);
      else res.end();
    });
  });
  const scope: ServerScope = {
    rollout,
    model,
    limits,
    admission: new Admission(opts.maxConcurrent ?? 64, opts.maxQueued ?? 256),
    modelCard: { id: limits.modelName, object: 'model', created: 0, owned_by: 'lwz', max_model_len: model.contextLength },
    maxBody: opts.maxBodyBytes ?? 2 ** 20,
    shutdown: new Shutdown(server),
  };
  await listenOn(server, opts.port ?? 8000, host);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${urlHost(host)}:${port}/v1`,
    port,
    stats: () => ({
      ...stats,
      status: { ...stats.status },
      running: scope.admission.running,
      waiting: scope.admission.waitingCount,
      inFlight: scope.shutdown.requestsInFlight,
      stopping: scope.shutdown.stopping,
    }),
    drain: (graceMs) => scope.shutdown.drain(graceMs),
    close: () => scope.shutdown.close(),
  };
}
