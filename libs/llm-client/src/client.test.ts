// LlmClient against the real local test server: clean answers, faults, timeouts, retries, concurrency and
// round-robin. Timeouts are 200 ms and backoff steps a few ms, so the file runs in a few seconds.
import { jest } from '@jest/globals';
import { Rng } from '@lwz/core';
import { LlmClient } from './client';
import type { LlmClientConfigInput } from './config';
import { isLlmError, type LlmError } from './errors';
import { UrlPool } from './url-pool';
import { defaultResponder, startTestLlmServer, unusedBaseUrl, within, type TestLlmServer, type TestRequest } from './testing';

// 1 s timeouts where a test counts calls exactly (a fresh connection on a busy machine can take 100+ ms);
// 200 ms where a test is about hangs and timeouts
const fast = { timeoutMs: 1000, backoffBaseMs: 2, backoffMaxMs: 20, maxRetries: 3 };
const short = { timeoutMs: 200 };

function clientFor(baseUrls: string | string[], extra: Partial<LlmClientConfigInput> = {}): LlmClient {
  return new LlmClient({ baseUrls, model: 'test-model', ...fast, ...extra }, { rng: new Rng(1) });
}

async function caught(p: Promise<unknown>): Promise<LlmError> {
  try {
    await p;
  } catch (e) {
    if (isLlmError(e)) return e;
    throw e;
  }
  throw new Error('expected an LlmError');
}

/** The mixed workload of the fault tests: completions with n and logprobs, and chats. */
function workload(client: LlmClient) {
  return Array.from({ length: 30 }, (_, i) =>
    i % 3 === 2
      ? client.chat({ messages: [{ role: 'user', content: `question ${i}` }], seed: i, maxTokens: 64 })
      : client.completions({ prompt: `prompt ${i}`, n: 1 + (i % 4), logprobs: 0, seed: i, maxTokens: 64, temperature: 0.8 }),
  );
}

const servers: TestLlmServer[] = [];
async function server(...args: Parameters<typeof startTestLlmServer>): Promise<TestLlmServer> {
  const s = await startTestLlmServer(...args);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('LlmClient on a clean server', () => {
  it('returns n completions with finish reasons and token logprobs that join to the text', async () => {
    const s = await server();
    const res = await clientFor(s.baseUrl).completions({ prompt: 'Write about rivers', n: 3, logprobs: 0, seed: 4, stop: ['</answer>'] });
    const req: TestRequest = {
      endpoint: 'completions',
      body: { seed: 4 },
      headers: {},
      prompt: 'Write about rivers',
      n: 3,
      stream: false,
      call: 1,
    };
    expect(res.choices.map((c) => c.text)).toEqual(defaultResponder(req).map((c) => c.text));
    expect(res.cached).toBe(false);
    for (const c of res.choices) {
      expect(c.finishReason).toBe('stop');
      expect(c.logprobs?.tokens.join('')).toBe(c.text);
      expect(c.logprobs?.logprobs.length).toBeGreaterThan(3);
      expect(c.logprobs?.logprobs.every((lp) => lp !== null && lp < 0)).toBe(true);
    }
    expect(s.requests[0].body).toMatchObject({
      model: 'test-model',
      prompt: 'Write about rivers',
      n: 3,
      logprobs: 0,
      seed: 4,
      stop: ['</answer>'],
    });
    expect(s.calls).toBe(1);
  });

  it('passes extra fields through and reads vLLM-style token ids', async () => {
    const s = await server({ responder: () => ({ text: ' a b', tokens: [' a', ' b'], tokenIds: [17, 42] }) });
    const res = await clientFor(s.baseUrl).completions({ prompt: [1, 2, 3], logprobs: 1, extra: { return_token_ids: true, min_p: 0.1 } });
    expect(res.choices[0].tokenIds).toEqual([17, 42]);
    expect(res.choices[0].logprobs?.topLogprobs).toHaveLength(2);
    expect(s.requests[0].body).toMatchObject({ prompt: [1, 2, 3], return_token_ids: true, min_p: 0.1 });
  });

  it('chats, with response_format and chat-shaped logprobs', async () => {
    const s = await server({ responder: (r) => `you said: ${r.prompt}` });
    const client = clientFor(s.baseUrl);
    const res = await client.chat({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello' },
      ],
      responseFormat: { type: 'json_object' },
      logprobs: true,
      n: 2,
    });
    expect(res.choices.map((c) => c.content)).toEqual(['you said: hello', 'you said: hello']);
    expect(res.choices[0].logprobs?.tokens.join('')).toBe('you said: hello');
    expect(s.requests[0].body).toMatchObject({ response_format: { type: 'json_object' }, logprobs: true });
    expect(await client.models()).toEqual([{ id: 'test-model', ownedBy: 'lwz-test' }]);
  });
});

describe('LlmClient under faults', () => {
  it('30 % faults of every kind give exactly the clean run', async () => {
    const clean = await server();
    const cleanResults = await Promise.all(workload(clientFor(clean.baseUrl, { concurrency: 4 })));
    const flaky = await server({ faults: { rate: 0.3, seed: 11 } });
    const client = clientFor(flaky.baseUrl, { ...short, concurrency: 4, maxRetries: 12 });
    const flakyResults = await Promise.all(workload(client));
    const strip = (rs: typeof cleanResults) => rs.map((r) => r.choices);
    expect(strip(flakyResults)).toEqual(strip(cleanResults));
    const injected = Object.values(flaky.faults).reduce((a, b) => a + b, 0);
    expect(injected).toBeGreaterThanOrEqual(5);
    expect(Object.values(flaky.faults).filter((n) => n > 0).length).toBeGreaterThanOrEqual(4);
    // every fault cost one retry (more only if a good answer came later than the 200 ms timeout on a busy machine)
    const stats = client.stats();
    expect(stats).toMatchObject({ requests: 30, calls: 30, attempts: 30 + stats.retries, failures: 0 });
    expect(stats.retries).toBeGreaterThanOrEqual(injected);
  });

  it('retries timeouts: two hangs, then an answer', async () => {
    const s = await server({ faults: (r) => (r.call <= 2 ? 'hang' : null) });
    const t0 = Date.now();
    const res = await clientFor(s.baseUrl, short).completions({ prompt: 'p' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2 * 200);
    expect(res.choices).toHaveLength(1);
    expect(s.faults.hang).toBe(2);
    expect(s.answered).toBeGreaterThanOrEqual(1);
  });

  it('honours Retry-After from a 429 (seconds, or retry-after-ms)', async () => {
    // a retry that never comes (or waits far past the 0.3 s asked) fails here within 5 s, not at jest's timeout
    const s = await server({ faults: (r) => (r.call === 1 ? 'http429' : null), retryAfter: { seconds: '0.3' } });
    const t0 = Date.now();
    await within(5000, 'the retry after a 0.3 s Retry-After', clientFor(s.baseUrl).completions({ prompt: 'p' }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    const s2 = await server({ faults: (r) => (r.call === 1 ? 'http429' : null), retryAfter: { ms: 150 } });
    const t1 = Date.now();
    await within(5000, 'the retry after a 150 ms retry-after-ms', clientFor(s2.baseUrl).completions({ prompt: 'p' }));
    expect(Date.now() - t1).toBeGreaterThanOrEqual(150);
  });

  it('gives up after maxRetries with an error naming endpoint, URL, status, attempts and the body', async () => {
    const s = await server({ faults: () => 'http503' });
    const client = clientFor(s.baseUrl, { maxRetries: 2 });
    const e = await caught(client.completions({ prompt: 'p' }));
    expect(e.kind).toBe('http');
    expect(e.status).toBe(503);
    expect(e.attempts).toBe(3);
    expect(e.retryable).toBe(true); // a 503 can pass: a caller may try again later
    expect(s.calls).toBe(3);
    expect(e.message).toContain(`completions: POST ${s.baseUrl}/completions failed after 3 attempts (maxRetries 2)`);
    expect(e.message).toContain('injected server error');
    expect(e.bodyExcerpt).toContain('"type":"server_error"');
    expect(client.stats().failures).toBe(1);
  });

  it('names timeouts and dead servers when retries run out', async () => {
    const hung = await server({ faults: () => 'hang' });
    const e = await caught(clientFor(hung.baseUrl, { ...short, maxRetries: 1 }).chat({ messages: [{ role: 'user', content: 'x' }] }));
    expect(e.kind).toBe('timeout');
    expect(e.message).toMatch(/^chat: POST .*\/chat\/completions failed after 2 attempts .*no answer within 200 ms/);
    const dead = await caught(clientFor(await unusedBaseUrl(), { maxRetries: 1 }).models());
    expect([e.retryable, dead.kind, dead.retryable]).toEqual([true, 'connection', true]);
    expect(dead.message).toMatch(/^models: GET .*\/models failed after 2 attempts .*ECONNREFUSED/);
  });

  it('does not retry a 400 or a 404, and says what to check', async () => {
    const s = await server({ responder: () => ({ status: 400, body: { error: { message: 'max_tokens too large' } } }) });
    const e = await caught(clientFor(s.baseUrl).completions({ prompt: 'p', maxTokens: 1e9 }));
    expect([e.status, e.attempts, s.calls, e.retryable]).toEqual([400, 1, 1, false]);
    expect(e.message).toMatch(/HTTP 400 \(the server rejected the request\): ".*max_tokens too large.*" \(not retried\)/);
    const wrongPath = await caught(clientFor(s.baseUrl.replace(/\/v1$/, '')).completions({ prompt: 'p' }));
    expect(wrongPath.message).toMatch(/HTTP 404 \(is the base URL right\? .*\/v1\)/);
    const wrongModel = await caught(clientFor(s.baseUrl, { model: 'nope' }).completions({ prompt: 'p' }));
    expect(wrongModel.message).toContain('The model `nope` does not exist.');
    expect(wrongModel.message).toMatch(/HTTP 404 \(is the model name right\? GET <baseUrl>\/models lists the served ones\)/);
  });

  it('does not retry a port fetch refuses to use, and reads a refusal as what the model said', async () => {
    const blocked = await caught(clientFor('http://127.0.0.1:6000/v1').completions({ prompt: 'p' })); // X11's port: fetch's "bad port"
    expect([blocked.kind, blocked.attempts, blocked.retryable]).toEqual(['connection', 1, false]);
    expect(blocked.message).toMatch(/bad port.*\(not retried\)/);
    const s = await server({
      responder: () => ({
        status: 200,
        body: {
          id: 'x',
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: 'I cannot judge this.' }, finish_reason: 'stop' }],
        },
      }),
    });
    const res = await clientFor(s.baseUrl).chat({ messages: [{ role: 'user', content: 'judge' }] });
    expect(res.choices[0].content).toBe('[refusal] I cannot judge this.');
  });

  it('stops at once when the caller aborts', async () => {
    const s = await server({ faults: () => 'hang' });
    const c = new AbortController();
    setTimeout(() => c.abort(), 50);
    const e = await caught(clientFor(s.baseUrl, { timeoutMs: 5000 }).completions({ prompt: 'p' }, { signal: c.signal }));
    expect(e.kind).toBe('aborted');
  });
});

describe('LlmClient scheduling', () => {
  it('keeps at most `concurrency` requests in flight (counted by the server)', async () => {
    const s = await server({ latencyMs: 30 });
    const client = clientFor(s.baseUrl, { concurrency: 3 });
    // a slot not given back after a request leaves the fourth waiting forever: a failure within 5 s, not a hang
    const all = Promise.all(Array.from({ length: 12 }, (_, i) => client.completions({ prompt: `p${i}` })));
    await within(5000, '12 requests through 3 slots', all);
    expect(s.maxInFlight).toBe(3);
    expect(s.calls).toBe(12);
  });

  it('spreads requests round-robin and routes around a server that is down', async () => {
    const a = await server();
    const b = await server();
    const both = clientFor([a.baseUrl, b.baseUrl], { concurrency: 2 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => both.completions({ prompt: `p${i}` })));
    expect([a.calls, b.calls]).toEqual([5, 5]);

    const down = await unusedBaseUrl();
    const client = clientFor([down, a.baseUrl], { concurrency: 2, backoffBaseMs: 2000, backoffMaxMs: 2000 });
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => client.completions({ prompt: `q${i}` })));
    expect(results).toHaveLength(10);
    expect(a.calls).toBe(15);
    // the first request to meet the dead server retried on the next at once (no backoff wait: another URL was
    // ready), and the dead one's cool-down (>= 1 s here) kept the others away; round-robin alone would send 5
    expect(client.stats().retries).toBeGreaterThanOrEqual(1);
    expect(client.stats().retries).toBeLessThanOrEqual(2);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('long answers', () => {
  it("are not cut at Node fetch's own header and body limits: every call goes through a dispatcher without them", async () => {
    const { createServer } = await import('node:http');
    const { Agent } = await import('undici');
    const { LONG_ANSWERS } = await import('./transport');
    // Node's fetch honours a dispatcher's limits: one of 1 s gives up on a server that answers after 2.5 s (its
    // default is 300 s, which cut non-streamed answers of a few minutes and retried them from scratch)
    const timers: NodeJS.Timeout[] = [];
    const slow = createServer((_req, res) => void timers.push(setTimeout(() => res.writeHead(200).end('ok'), 2500)));
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(slow.address() as { port: number }).port}/`;
    const short = new Agent({ headersTimeout: 1000 });
    const failed = await fetch(url, { dispatcher: short } as RequestInit).then(
      () => null,
      (e: unknown) => e as { cause?: unknown },
    );
    expect(String(failed?.cause)).toMatch(/Headers ?Timeout/); // UND_ERR_HEADERS_TIMEOUT
    timers.forEach(clearTimeout);
    slow.closeAllConnections();
    slow.close();
    await short.close();
    // and the client passes its own, with those limits off, on every attempt
    const server = await startTestLlmServer({});
    const seen: unknown[] = [];
    const real = globalThis.fetch;
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      seen.push((init as { dispatcher?: unknown } | undefined)?.dispatcher);
      return real(input, init);
    }) as typeof fetch;
    try {
      await clientFor(server.baseUrl).completions({ prompt: 'hello' });
    } finally {
      globalThis.fetch = real;
      await server.close();
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((d) => d === LONG_ANSWERS)).toBe(true);
  });
});

describe('408 and recovery', () => {
  it('a 408 is retried, as the OpenAI SDK retries it', async () => {
    const s = await startTestLlmServer({
      responder: (r) => (r.call === 1 ? { status: 408, body: { error: { message: 'request timeout' } } } : 'fine'),
    });
    try {
      expect((await clientFor(s.baseUrl).completions({ prompt: 'p' })).choices[0].text).toBe('fine');
      expect(s.calls).toBe(2);
    } finally {
      await s.close();
    }
  });

  it("a success resets the URL's backoff: a later failure waits the first step again, not the third", async () => {
    // jitter fixed at 1: step k waits exactly 2 * 2^(k-1) ms. Calls 1 and 2 fail, call 3 succeeds, call 4 fails: the
    // cool-downs the pool sets are 2, 4 and then 2 again (8 if the two failures before the success still counted).
    // Read off the pool itself, so no wall-clock bound can flake on a loaded machine.
    const failure = jest.spyOn(UrlPool.prototype, 'failure');
    const s = await startTestLlmServer({ faults: (r) => (r.call <= 2 || r.call === 4 ? 'http503' : null) });
    try {
      const client = new LlmClient(
        { baseUrls: s.baseUrl, model: 'test-model', timeoutMs: 2000, backoffBaseMs: 2, backoffMaxMs: 5000, maxRetries: 2 },
        { rng: { next: () => 1 } },
      );
      await client.completions({ prompt: 'a' });
      expect(s.calls).toBe(3);
      await client.completions({ prompt: 'b' });
      expect(s.calls).toBe(5);
      expect(failure.mock.results.map((r) => r.value)).toEqual([2, 4, 2]);
    } finally {
      failure.mockRestore();
      await s.close();
    }
  });
});

describe('409', () => {
  it('is retried, as the OpenAI SDK retries it (a conflict on the server side, e.g. a lock)', async () => {
    let calls = 0;
    const s = await startTestLlmServer({
      responder: () => (++calls === 1 ? { status: 409, body: { error: { message: 'conflict, try again' } } } : 'fine'),
    });
    try {
      const res = await clientFor(s.baseUrl).completions({ prompt: 'p' });
      expect(res.choices[0].text).toBe('fine');
      expect(calls).toBe(2);
    } finally {
      await s.close();
    }
  });
});
