// Streaming (SSE) against the real test server: deltas reassemble to the non-streamed answer, failures
// before the first event are retried, and after it they are final, clear errors.
import { LlmClient } from './client';
import type { LlmClientConfigInput } from './config';
import { isLlmError } from './errors';
import { assembleDeltas, type ChatDelta, type CompletionDelta } from './stream-deltas';
import { startTestLlmServer, within, type TestLlmServer } from './testing';

const servers: TestLlmServer[] = [];
async function server(...args: Parameters<typeof startTestLlmServer>): Promise<TestLlmServer> {
  const s = await startTestLlmServer(...args);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function clientFor(s: TestLlmServer, extra: Partial<LlmClientConfigInput> = {}): LlmClient {
  return new LlmClient({
    baseUrls: s.baseUrl,
    model: 'test-model',
    timeoutMs: 1000,
    backoffBaseMs: 2,
    backoffMaxMs: 20,
    maxRetries: 3,
    ...extra,
  });
}

async function collect<D>(it: AsyncIterable<D>): Promise<D[]> {
  const out: D[] = [];
  for await (const d of it) out.push(d);
  return out;
}

describe('streaming', () => {
  it('completion deltas (n = 3, logprobs) reassemble to the non-streamed answers', async () => {
    const s = await server({
      responder: (r) =>
        Array.from({ length: r.n }, (_, i) => ({
          text: `choice ${i}: ${'long text '.repeat(i + 2)}é`,
          finishReason: i === 1 ? 'length' : 'stop',
        })),
    });
    const client = clientFor(s);
    const request = { prompt: 'p', n: 3, logprobs: 0, seed: 1 };
    const whole = await client.completions(request);
    const deltas = await collect<CompletionDelta>(client.streamCompletions(request));
    expect(deltas.length).toBeGreaterThan(6);
    expect(assembleDeltas(deltas)).toEqual(whole.choices.map((c) => ({ index: c.index, text: c.text, finishReason: c.finishReason })));
    const streamedLogprobs = deltas.filter((d) => d.index === 0).flatMap((d) => d.logprobs?.logprobs ?? []);
    expect(streamedLogprobs.length).toBeGreaterThan(2);
    expect(streamedLogprobs).toEqual(whole.choices[0].logprobs?.logprobs);
    expect(s.requests[1].body.stream).toBe(true);
  });

  it('chat deltas reassemble to the non-streamed reply', async () => {
    const s = await server();
    const client = clientFor(s);
    const request = { messages: [{ role: 'user' as const, content: 'tell me' }], n: 2, seed: 3 };
    const whole = await client.chat(request);
    const deltas = await collect<ChatDelta>(client.streamChat(request));
    expect(assembleDeltas(deltas)).toEqual(whole.choices.map((c) => ({ index: c.index, text: c.content, finishReason: c.finishReason })));
  });

  it('retries failures before the first event (503, dropped, malformed) and then streams', async () => {
    const plan = ['http503', 'drop', 'malformed', null] as const;
    const s = await server({ faults: (r) => plan[r.call - 1] ?? null });
    const client = clientFor(s);
    const deltas = await collect(client.streamCompletions({ prompt: 'p' }));
    const clean = await clientFor(await server()).completions({ prompt: 'p' });
    expect(assembleDeltas(deltas)[0].text).toBe(clean.choices[0].text);
    expect(s.calls).toBe(4);
    expect(client.stats().retries).toBe(3);
  });

  it('the timeout is the longest silence: a slow steady stream succeeds, a stalled one fails clearly', async () => {
    const words = 'one two three four five six seven eight nine ten eleven twelve';
    const steady = await server({ streamDelayMs: 40, responder: () => words });
    const t0 = Date.now();
    const deltas = await collect(clientFor(steady, { timeoutMs: 300 }).streamCompletions({ prompt: 'p' }));
    expect(Date.now() - t0).toBeGreaterThan(300);
    expect(assembleDeltas(deltas)[0].text).toBe(words);

    const stalled = await server({ streamDelayMs: 600, responder: () => 'one two three' });
    const client = clientFor(stalled, { timeoutMs: 150 });
    const got: CompletionDelta[] = [];
    let error: unknown;
    try {
      for await (const d of client.streamCompletions({ prompt: 'p' })) got.push(d);
    } catch (e) {
      error = e;
    }
    expect(got).toHaveLength(1);
    expect(isLlmError(error) && error.kind).toBe('timeout');
    expect((error as Error).message).toMatch(/^stream completions: the stream went silent for 150 ms after 1 events; not retried/);
    expect(stalled.calls).toBe(1);

    // a consumer that takes longer over each event than the limit is not the server going silent
    const steadyAgain = await server({ streamDelayMs: 20, responder: () => 'one two three four' });
    const slowReader: CompletionDelta[] = [];
    for await (const d of clientFor(steadyAgain, { timeoutMs: 150 }).streamCompletions({ prompt: 'p' })) {
      slowReader.push(d);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(assembleDeltas(slowReader)[0].text).toBe('one two three four');
  });

  it('a stream broken or aborted after its first event fails at once, naming what happened', async () => {
    const s = await server({ dropStreamsAfter: 3, streamDelayMs: 10, responder: () => 'a b c d e f' });
    const got: CompletionDelta[] = [];
    let error: unknown;
    try {
      for await (const d of clientFor(s).streamCompletions({ prompt: 'p' })) got.push(d);
    } catch (e) {
      error = e;
    }
    expect(got.map((d) => d.text)).toEqual(['a', ' b', ' c']);
    expect(isLlmError(error) && error.kind).toBe('interrupted');
    expect((error as Error).message).toMatch(/^stream completions: the stream broke \(.+\) after 3 events; not retried/);
    expect(s.calls).toBe(1);

    const slow = await server({ streamDelayMs: 100 });
    const c = new AbortController();
    let aborted: unknown;
    try {
      for await (const d of clientFor(slow).streamChat({ messages: [{ role: 'user', content: 'x' }] }, { signal: c.signal })) {
        if (d.content) c.abort();
      }
    } catch (e) {
      aborted = e;
    }
    expect(isLlmError(aborted) && aborted.kind).toBe('aborted');
  });

  it('a consumer that stops early frees its slot and the connection', async () => {
    const s = await server({ streamDelayMs: 20, responder: () => 'a b c d e f g h i j' });
    const client = clientFor(s, { concurrency: 1 });
    for await (const d of client.streamCompletions({ prompt: 'p' })) {
      expect(d.text).toBe('a');
      break;
    }
    // with concurrency 1, this would wait forever if the slot had leaked: it fails within 5 s instead
    const next = await within(5000, 'a request after the stream left early (its slot given back?)', client.completions({ prompt: 'q' }));
    expect(next.choices[0].text).toBe('a b c d e f g h i j');
    await new Promise((r) => setTimeout(r, 50));
    expect(s.inFlight).toBe(0);
  });
});

describe('a stream without its [DONE] event', () => {
  /** A raw SSE server: the given events, then the connection closes (no [DONE]). */
  async function rawStream(events: object[]): Promise<{ baseUrl: string; close: () => Promise<void> }> {
    const { createServer } = await import('node:http');
    const s = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of events) res.write(`data: ${JSON.stringify(e)}\n\n`);
      res.end();
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const baseUrl = `http://127.0.0.1:${(s.address() as { port: number }).port}/v1`;
    return {
      baseUrl,
      close: () =>
        new Promise((r) => {
          s.closeAllConnections();
          s.close(() => r());
        }),
    };
  }
  const chunk = (index: number, text: string, finish: string | null) => ({
    id: 'x',
    object: 'text_completion',
    created: 0,
    model: 'm',
    choices: [{ index, text, finish_reason: finish }],
  });

  it('is complete when every answer it began has a finish reason (older TGI, llama.cpp forks), cut short otherwise', async () => {
    const whole = await rawStream([chunk(0, 'a', null), chunk(1, 'b', null), chunk(0, ' c', 'stop'), chunk(1, ' d', 'length')]);
    const client = new LlmClient({ baseUrls: whole.baseUrl, model: 'm', timeoutMs: 2000 });
    const got = await collect(client.streamCompletions({ prompt: 'p', n: 2 }));
    expect(assembleDeltas(got).map((a) => [a.text, a.finishReason])).toEqual([
      ['a c', 'stop'],
      ['b d', 'length'],
    ]);
    await whole.close();
    const cut = await rawStream([chunk(0, 'a', null), chunk(1, 'b', null), chunk(0, ' c', 'stop')]);
    let error: unknown;
    try {
      await collect(new LlmClient({ baseUrls: cut.baseUrl, model: 'm', timeoutMs: 2000 }).streamCompletions({ prompt: 'p', n: 2 }));
    } catch (e) {
      error = e;
    }
    expect(isLlmError(error) && error.kind).toBe('interrupted');
    expect((error as Error).message).toMatch(/ended before every answer had its finish reason/);
    await cut.close();
  });

  it("reads a usage chunk with no choices, and names the server's own error event", async () => {
    const usage = { id: 'x', object: 'text_completion', created: 0, model: 'm', usage: { prompt_tokens: 1, completion_tokens: 2 } };
    const ok = await rawStream([chunk(0, 'a', null), chunk(0, ' b', 'stop'), usage]);
    const got = await collect(new LlmClient({ baseUrls: ok.baseUrl, model: 'm', timeoutMs: 2000 }).streamCompletions({ prompt: 'p' }));
    expect(assembleDeltas(got)[0]).toMatchObject({ text: 'a b', finishReason: 'stop' });
    await ok.close();
    const failing = await rawStream([chunk(0, 'a', null), { error: { message: 'CUDA out of memory', type: 'server_error' } }]);
    let error: unknown;
    try {
      await collect(new LlmClient({ baseUrls: failing.baseUrl, model: 'm', timeoutMs: 2000 }).streamCompletions({ prompt: 'p' }));
    } catch (e) {
      error = e;
    }
    expect(isLlmError(error) && error.kind).toBe('interrupted');
    expect((error as Error).message).toMatch(/the server ended the stream with an error: "CUDA out of memory"/);
    await failing.close();
  });
});
