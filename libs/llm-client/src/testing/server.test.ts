// The test server itself, probed with plain fetch (not our client): every fault kind does what the docs
// say, the seeded fault share is reproducible, counts and validation work, and close() ends hanging requests.
import { Rng } from '@lwz/core';
import type { FaultKind } from './faults';
import { startTestLlmServer, unusedBaseUrl, type TestLlmServer } from './server';

const servers: TestLlmServer[] = [];
async function server(...args: Parameters<typeof startTestLlmServer>): Promise<TestLlmServer> {
  const s = await startTestLlmServer(...args);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const post = (url: string, body: unknown, init: RequestInit = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init });
const completion = { model: 'test-model', prompt: 'hello' };

describe('test LLM server', () => {
  it('each fault kind answers as documented', async () => {
    const expectFault = async (kind: FaultKind, check: (res: Response, text: string) => void) => {
      const s = await server({ faults: () => kind, retryAfter: { ms: 250, seconds: 1 } });
      const res = await post(`${s.baseUrl}/completions`, completion);
      check(res, await res.text());
      expect(s.faults[kind]).toBe(1);
      expect(s.answered).toBe(0);
    };
    await expectFault('http500', (res, text) => expect([res.status, JSON.parse(text).error.type]).toEqual([500, 'server_error']));
    await expectFault('http503', (res) => expect(res.status).toBe(503));
    await expectFault('http429', (res) => {
      expect(res.status).toBe(429);
      expect([res.headers.get('retry-after-ms'), res.headers.get('retry-after')]).toEqual(['250', '1']);
    });
    await expectFault('malformed', (res, text) => {
      expect(res.status).toBe(200);
      expect(() => JSON.parse(text)).toThrow();
    });
    await expectFault('wrong-shape', (_res, text) => expect(JSON.parse(text).choices).toBeUndefined());

    const dropping = await server({ faults: () => 'drop' });
    const res = await post(`${dropping.baseUrl}/completions`, completion);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('a hang never answers; close() ends it at once', async () => {
    const s = await startTestLlmServer({ faults: () => 'hang' });
    const pending = post(`${s.baseUrl}/completions`, completion).then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(s.inFlight).toBe(1);
    const t0 = Date.now();
    await s.close();
    expect(await pending).toBe('dropped');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('draws faults from its seed in arrival order, at the configured share', async () => {
    const kinds: FaultKind[] = ['http500', 'http503', 'http429', 'malformed', 'wrong-shape'];
    const s = await server({ faults: { rate: 0.25, seed: 7, kinds } });
    for (let i = 0; i < 200; i++) await (await post(`${s.baseUrl}/completions`, { ...completion, prompt: `p${i}` })).text();
    const replay = new Rng(7);
    const expected = Object.fromEntries(kinds.map((k) => [k, 0]));
    for (let i = 0; i < 200; i++) {
      const hit = replay.next() < 0.25;
      const kind = replay.pick(kinds);
      if (hit) expected[kind] += 1;
    }
    expect(s.faults).toMatchObject(expected);
    const total = Object.values(s.faults).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(30);
    expect(total).toBeLessThan(70);
    expect(s.answered + total).toBe(200);
  });

  it('validates requests, checks the key, counts per endpoint and resets', async () => {
    const s = await server({ apiKey: 'k-123456', models: ['a', 'b'] });
    const auth = { headers: { 'content-type': 'application/json', authorization: 'Bearer k-123456' } };
    expect((await post(`${s.baseUrl}/completions`, { model: 'a', prompt: 'x' })).status).toBe(401);
    expect((await post(`${s.baseUrl}/completions`, { model: 'a', prompt: 'x' }, auth)).status).toBe(200);
    expect((await post(`${s.baseUrl}/completions`, { model: 'z', prompt: 'x' }, auth)).status).toBe(404);
    expect((await post(`${s.baseUrl}/chat/completions`, { model: 'a' }, auth)).status).toBe(400);
    expect((await post(`${s.baseUrl}/completions`, { model: 'a', prompt: 'x', n: 0 }, auth)).status).toBe(400);
    expect((await fetch(`${s.baseUrl}/completions`, { method: 'POST', body: '{oops', ...auth })).status).toBe(400);
    expect((await post(`${s.baseUrl}/embeddings`, {}, auth)).status).toBe(404);
    const models = await (await fetch(`${s.baseUrl}/models`, auth)).json();
    expect(models.data.map((m: { id: string }) => m.id)).toEqual(['a', 'b']);
    expect(s.callsByEndpoint).toEqual({ completions: 5, chat: 1, models: 1 });
    expect(s.calls).toBe(7);
    expect(s.requests[1].headers.authorization).toBe('Bearer k-123456');
    s.reset();
    expect([s.calls, s.answered, s.requests.length, s.maxInFlight]).toEqual([0, 0, 0, 0]);
  });

  it('streams SSE chunks that end with [DONE], and token-id prompts are accepted', async () => {
    const s = await server({ responder: () => ({ text: 'a b c', finishReason: 'length' }) });
    const res = await post(`${s.baseUrl}/completions`, { model: 'test-model', prompt: [5, 6], stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events[events.length - 1]).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)));
    expect(chunks.map((c) => c.choices[0].text).join('')).toBe('a b c');
    expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe('length');
    expect(s.requests[0].prompt).toBe('ids:5,6');
  });

  it('unusedBaseUrl refuses connections', async () => {
    await expect(fetch(`${await unusedBaseUrl()}/models`)).rejects.toThrow();
  });
});
