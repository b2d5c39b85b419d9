// `serve` stopping gracefully (RunningServer.drain): a streamed answer in flight when the drain begins ends with its
// whole text and [DONE]; new connections are refused, and a new request on a kept-alive connection gets 503 in the
// OpenAI error shape while /health says "draining"; a grace that runs out cuts off what is left (queued requests
// too) and counts it; close() during a drain cuts off at once. The engine is slowed (slowSteps) so requests stay in
// flight; the kept-alive connection is one node:http Agent socket.
import { Agent, request, type IncomingMessage } from 'node:http';
import { Rng } from '@lwz/core';
import { initModel } from '@lwz/model';
import { LocalRollout } from '../local-backend';
import { byteTokenizer } from '../testing/byte-tokenizer';
import { smallTestConfig } from '../testing/model-config';
import { slowSteps } from '../testing/slow-engine';
import { startServer } from './openai-server';

const tok = byteTokenizer();
const config = smallTestConfig({ vocabSize: tok.vocabSize, maxPositionEmbeddings: 256, eosTokenId: tok.tokenToId('<|endoftext|>') });

let rollout: LocalRollout;
beforeAll(() => {
  rollout = new LocalRollout(initModel(config, new Rng(1)), tok, { maxBatch: 8 });
});
afterAll(() => rollout.close());

/** One request through `agent` (its one socket, kept alive); resolves at the reply's headers. */
function send(agent: Agent, port: number, method: string, path: string, body?: object): Promise<IncomingMessage & { reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, port, host: '127.0.0.1', method, path, headers: { 'content-type': 'application/json' } }, (res) =>
      resolve(Object.assign(res, { reused: req.reusedSocket })),
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const part of res) text += (part as Buffer).toString();
  return text;
}

const post = (url: string, body: object) =>
  fetch(`${url}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const events = (text: string) => text.split('\n\n').filter(Boolean);
const streamedText = (text: string) =>
  events(text)
    .filter((e) => e !== 'data: [DONE]')
    .map((e) => (JSON.parse(e.slice('data: '.length)) as { choices: { text: string }[] }).choices[0].text)
    .join('');

describe('RunningServer.drain', () => {
  it('lets a streamed answer in flight finish whole; refuses new connections, and new requests with 503', async () => {
    const server = await startServer(rollout, { port: 0, modelName: 'tiny' });
    const body = { model: 'tiny', prompt: 'Once upon', max_tokens: 30, ignore_eos: true, seed: 3 };
    const whole = ((await (await post(server.url, body)).json()) as { choices: { text: string }[] }).choices[0].text;
    const undo = slowSteps(rollout.engine, 10);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const streamed = await send(agent, server.port, 'POST', '/v1/completions', { ...body, stream: true });
      // a longer answer keeps the drain going after the first has finished
      const longer = (await post(server.url, { ...body, max_tokens: 120, stream: true })).text();
      await new Promise((r) => streamed.once('readable', r)); // the stream has begun
      const drained = server.drain(30_000);
      expect(server.stats()).toMatchObject({ stopping: true, inFlight: 2 });
      await expect(fetch(`${server.url}/models`)).rejects.toThrow(); // no new connections
      const text = await readAll(streamed);
      expect(events(text).at(-1)).toBe('data: [DONE]');
      expect(streamedText(text)).toBe(whole);
      // the same kept-alive connection: /health says draining (503: a load balancer stops sending), a completion is refused
      const health = await send(agent, server.port, 'GET', '/health');
      expect(health.reused).toBe(true);
      expect([health.statusCode, JSON.parse(await readAll(health))]).toEqual([503, expect.objectContaining({ status: 'draining' })]);
      const refused = await send(agent, server.port, 'POST', '/v1/completions', body);
      expect(refused.reused).toBe(true);
      expect(refused.statusCode).toBe(503);
      expect(refused.headers.connection).toBe('close');
      expect(JSON.parse(await readAll(refused))).toEqual({
        error: {
          message: expect.stringMatching(/shutting down: it finishes the requests it has and takes no new ones/),
          type: 'server_error',
          param: null,
          code: 503,
        },
      });
      expect(events(await longer).at(-1)).toBe('data: [DONE]');
      expect(await drained).toEqual({ waitedFor: 2, cutOff: 0, ended: 'finished' });
      expect(server.stats().inFlight).toBe(0);
    } finally {
      undo();
      agent.destroy();
      await server.close();
    }
  });

  it('when the grace runs out, cuts off the requests left, queued ones included, and counts them', async () => {
    const server = await startServer(rollout, { port: 0, modelName: 'tiny', maxConcurrent: 1 });
    const undo = slowSteps(rollout.engine, 10);
    try {
      const long = { model: 'tiny', prompt: 'x', max_tokens: 200, ignore_eos: true };
      const running = await post(server.url, { ...long, stream: true });
      const queued = post(server.url, long).then(
        (r) => r.status,
        () => 'cut off',
      );
      for (let i = 0; i < 1000 && server.stats().waiting < 1; i++) await new Promise((r) => setTimeout(r, 5));
      expect(server.stats().waiting).toBe(1); // the second request is queued, not still on its way
      expect(await server.drain(300)).toEqual({ waitedFor: 2, cutOff: 2, ended: 'grace' });
      await expect(running.text()).rejects.toThrow('terminated'); // not a clean end a client could take as the whole answer
      expect(await queued).toBe('cut off');
      for (let i = 0; i < 200 && rollout.engine.load.running + rollout.engine.load.queued > 0; i++)
        await new Promise((r) => setTimeout(r, 5));
      expect(rollout.engine.load).toEqual({ running: 0, queued: 0 }); // their answers were cancelled
    } finally {
      undo();
      await server.close();
    }
  });

  it('close() during a drain cuts off at once; a drain with nothing in flight closes at once', async () => {
    const server = await startServer(rollout, { port: 0, modelName: 'tiny' });
    const undo = slowSteps(rollout.engine, 10);
    try {
      const running = await post(server.url, { model: 'tiny', prompt: 'x', max_tokens: 200, ignore_eos: true, stream: true });
      const started = Date.now();
      const drained = server.drain(60_000);
      await new Promise((r) => setTimeout(r, 50));
      await server.close();
      expect(await drained).toEqual({ waitedFor: 1, cutOff: 1, ended: 'closed' });
      expect(Date.now() - started).toBeLessThan(5000); // not the minute of grace
      await expect(running.text()).rejects.toThrow('terminated');
    } finally {
      undo();
    }
    const idle = await startServer(rollout, { port: 0, modelName: 'tiny' });
    expect(await idle.drain(60_000)).toEqual({ waitedFor: 0, cutOff: 0, ended: 'finished' });
    await idle.close(); // closing a closed server is a no-op
  });
});
