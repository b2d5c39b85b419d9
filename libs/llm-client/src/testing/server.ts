// A real OpenAI-compatible HTTP server for tests (node:http on 127.0.0.1, a random port): /v1/completions,
// /v1/chat/completions (JSON or SSE streams) and /v1/models, answers from a scriptable responder, and
// fault injection: a seeded share of requests gets HTTP 500/503, 429 with Retry-After, a hang, a dropped
// connection (socket destroyed mid-body) or a malformed / wrong-shaped body; a faulted request never
// reaches the responder. It counts calls, faults and requests in flight. For tests only: no auth beyond an
// optional fixed key, no limits, no persistence.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Rng } from '@lwz/core';
import { ALL_FAULTS, injectFault, type FaultKind, type FaultOptions, type RetryAfter } from './faults';
import { apiError, defaultResponder, responseBody, sendJson, streamChunks, type TestChoice, type TestRequest } from './openai-shapes';

/** A raw HTTP answer, for scripting errors a fault kind does not cover (e.g. a 400 with a given body). */
export interface RawReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A string (every one of the n choices gets it), one choice, one choice per n, or a raw HTTP reply. */
export type TestReply = string | TestChoice | TestChoice[] | RawReply;
export type Responder = (req: TestRequest) => TestReply | Promise<TestReply>;

export interface TestLlmServerOptions {
  /** request -> reply (default: defaultResponder, deterministic per prompt, choice and seed) */
  responder?: Responder;
  /** a seeded share of faults, or a plan choosing the fault (or null) per request */
  faults?: FaultOptions | ((req: TestRequest) => FaultKind | null);
  /** served model names (GET /v1/models); a request naming another model gets 404 (default ['test-model']) */
  models?: string[];
  /** when set, requests without `Authorization: Bearer <key>` get 401 (whose body echoes the header, as careless servers do) */
  apiKey?: string;
  /** wait this long before answering each request (to make in-flight counts visible) */
  latencyMs?: number;
  /** wait between SSE events */
  streamDelayMs?: number;
  /** destroy the socket of every streamed answer after this many events (a stream broken mid-way; not retryable) */
  dropStreamsAfter?: number;
  /** headers sent with 429: `retry-after-ms` and/or `Retry-After` in seconds (default { ms: 20 }) */
  retryAfter?: RetryAfter;
}

export interface TestLlmServer {
  /** e.g. http://127.0.0.1:41234/v1: what LlmClient's baseUrls take */
  readonly baseUrl: string;
  readonly port: number;
  /** requests received (every endpoint, faults included) */
  readonly calls: number;
  /** requests answered normally */
  readonly answered: number;
  /** requests received per endpoint */
  readonly callsByEndpoint: Readonly<Record<TestRequest['endpoint'], number>>;
  readonly faults: Readonly<Record<FaultKind, number>>;
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** every request received, in arrival order */
  readonly requests: readonly TestRequest[];
  /** zero the counters and the request log (options stay) */
  reset(): void;
  /** drop every open connection (hanging ones included) and stop listening */
  close(): Promise<void>;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function toChoices(reply: Exclude<TestReply, RawReply>, n: number): TestChoice[] {
  if (typeof reply === 'string') return Array.from({ length: n }, () => ({ text: reply }));
  return Array.isArray(reply) ? reply : [reply];
}

function isRaw(reply: TestReply): reply is RawReply {
  return typeof reply === 'object' && !Array.isArray(reply) && 'status' in reply;
}

/** Start a server on 127.0.0.1 at a random free port. Always `await server.close()` (afterAll/finally). */
export async function startTestLlmServer(options: TestLlmServerOptions = {}): Promise<TestLlmServer> {
  const models = options.models ?? ['test-model'];
  const responder = options.responder ?? defaultResponder;
  const faultOpts = options.faults;
  const rng = new Rng(typeof faultOpts === 'object' ? (faultOpts.seed ?? 1) : 1);
  const state = {
    calls: 0,
    answered: 0,
    callsByEndpoint: { completions: 0, chat: 0, models: 0 },
    faults: Object.fromEntries(ALL_FAULTS.map((k) => [k, 0])) as Record<FaultKind, number>,
    inFlight: 0,
    maxInFlight: 0,
    requests: [] as TestRequest[],
  };

  const chooseFault = (req: TestRequest): FaultKind | null => {
    if (!faultOpts) return null;
    if (typeof faultOpts === 'function') return faultOpts(req);
    const kinds = faultOpts.kinds ?? ALL_FAULTS;
    const hit = rng.next() < faultOpts.rate;
    const kind = rng.pick(kinds);
    return hit ? kind : null;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const endpoint = { '/v1/completions': 'completions', '/v1/chat/completions': 'chat', '/v1/models': 'models' }[url.pathname] as
      | TestRequest['endpoint']
      | undefined;
    const text = await readBody(req);
    if (!endpoint || (endpoint === 'models') !== (req.method === 'GET'))
      return apiError(res, 404, `no route ${req.method} ${url.pathname}`);
    state.calls += 1;
    state.callsByEndpoint[endpoint] += 1;
    let body: Record<string, unknown> = {};
    if (endpoint !== 'models') {
      try {
        body = JSON.parse(text);
      } catch {
        return apiError(res, 400, 'the body is not JSON');
      }
    }
    const n = typeof body.n === 'number' ? body.n : 1;
    const messages = Array.isArray(body.messages) ? (body.messages as { role?: string; content?: string }[]) : [];
    const prompt =
      endpoint === 'chat'
        ? String([...messages].reverse().find((m) => m.role === 'user')?.content ?? '')
        : Array.isArray(body.prompt)
          ? `ids:${body.prompt.join(',')}`
          : String(body.prompt ?? '');
    const request: TestRequest = { endpoint, body, headers: req.headers, prompt, n, stream: body.stream === true, call: state.calls };
    state.requests.push(request);
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return apiError(res, 401, `Incorrect API key provided: ${req.headers.authorization ?? '(none)'}`);
    }
    const invalid = endpoint === 'models' ? null : validate(endpoint, body, models);
    if (invalid) return apiError(res, invalid.status, invalid.message);
    if (options.latencyMs) await delay(options.latencyMs);
    const id = `cmpl-test-${request.call}`;
    const fault = chooseFault(request);
    if (fault) {
      // a faulted request never reaches the responder; drops and truncations cut a default answer
      state.faults[fault] += 1;
      const filler = endpoint === 'models' ? '{}' : JSON.stringify(responseBody(request, defaultResponder(request), id));
      return injectFault(fault, request, res, filler, options.retryAfter);
    }
    if (endpoint === 'models') {
      state.answered += 1;
      return sendJson(res, 200, { object: 'list', data: models.map((m) => ({ id: m, object: 'model', owned_by: 'lwz-test' })) });
    }
    const reply = await responder(request);
    if (isRaw(reply)) {
      state.answered += 1;
      return sendJson(res, reply.status, reply.body, reply.headers);
    }
    const choices = toChoices(reply, n);
    const goodBody = JSON.stringify(responseBody(request, choices, id));
    state.answered += 1;
    if (!request.stream) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(goodBody) });
      return void res.end(goodBody);
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const [i, chunk] of streamChunks(request, choices, id).entries()) {
      if (res.destroyed) return;
      if (i === options.dropStreamsAfter) return void res.socket?.destroy();
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      if (options.streamDelayMs) await delay(options.streamDelayMs);
    }
    res.end('data: [DONE]\n\n');
  };

  const server: Server = createServer((req, res) => {
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    res.on('close', () => (state.inFlight -= 1));
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) apiError(res, 500, `test server bug: ${e instanceof Error ? e.message : String(e)}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    get calls() {
      return state.calls;
    },
    get answered() {
      return state.answered;
    },
    get callsByEndpoint() {
      return state.callsByEndpoint;
    },
    get faults() {
      return state.faults;
    },
    get inFlight() {
      return state.inFlight;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    get requests() {
      return state.requests;
    },
    reset() {
      state.calls = 0;
      state.answered = 0;
      state.callsByEndpoint = { completions: 0, chat: 0, models: 0 };
      state.faults = Object.fromEntries(ALL_FAULTS.map((k) => [k, 0])) as Record<FaultKind, number>;
      state.maxInFlight = state.inFlight;
      state.requests = [];
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function validate(
  endpoint: 'completions' | 'chat',
  body: Record<string, unknown>,
  models: string[],
): { status: number; message: string } | null {
  if (typeof body.model !== 'string') return { status: 400, message: 'model: required string' };
  if (!models.includes(body.model)) return { status: 404, message: `The model \`${body.model}\` does not exist.` };
  if (endpoint === 'completions' && typeof body.prompt !== 'string' && !Array.isArray(body.prompt)) {
    return { status: 400, message: 'prompt: required string or token id array' };
  }
  if (endpoint === 'chat' && !Array.isArray(body.messages)) return { status: 400, message: 'messages: required array' };
  if (body.n !== undefined && !(Number.isInteger(body.n) && (body.n as number) >= 1))
    return { status: 400, message: 'n: must be a positive integer' };
  return null;
}

/** A base URL where nothing listens (a port just freed), for "server down" tests. */
export async function unusedBaseUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}
