// `lwz-train serve` starts on a loopback address with the checkpoint directory's name as the model name,
// answers /v1/models and a completion, rejects bad options with a message naming the field, and on SIGINT or
// SIGTERM drains: a request in flight finishes, the log says how many it waited for and how many it cut off when
// the grace ran out; a second signal, or --shutdown-grace 0, cuts off at once. The engine is slowed (slowSteps)
// so that requests stay in flight.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { slowSteps } from '@lwz/rollout/testing';
import { writeRolloutCheckpoint } from './rollout-fixture';
import { run, stopOnSignal } from './serve';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-serve-'));
  writeRolloutCheckpoint(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lwz-train serve', () => {
  it('serves the checkpoint on 127.0.0.1', async () => {
    const { server, rollout } = await run({ checkpoint: join(dir, 'ckpt'), port: 0 });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const models = (await (await fetch(`${server.url}/models`)).json()) as { data: { id: string; max_model_len: number }[] };
      expect(models.data).toEqual([expect.objectContaining({ id: 'ckpt', max_model_len: 1024 })]);
      const res = await fetch(`${server.url}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'ckpt', prompt: 'The sea', max_tokens: 4 }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBeLessThanOrEqual(4);
    } finally {
      await server.close();
      await rollout.close();
    }
  });

  /** A served checkpoint, slowed, stopping on signals; a streamed request in flight (its first chunk read). */
  async function serveWithStream(shutdownGrace: number, maxTokens: number) {
    const serving = await run({ checkpoint: join(dir, 'ckpt'), port: 0, shutdownGrace });
    const undo = slowSteps(serving.rollout.engine, 10);
    const listeners = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const lines: string[] = [];
    const stopped = stopOnSignal(serving, (line) => lines.push(line)).finally(undo);
    const res = await fetch(`${serving.server.url}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'ckpt', prompt: 'The sea', max_tokens: maxTokens, ignore_eos: true, stream: true }),
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = new TextDecoder().decode((await reader.read()).value); // the stream has begun
    const rest = (async () => {
      for (let part = await reader.read(); !part.done; part = await reader.read()) text += new TextDecoder().decode(part.value);
      return text;
    })();
    const handlersGone = () => expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(listeners);
    return { ...serving, lines, stopped, rest, handlersGone };
  }

  it('SIGTERM drains: a streamed request in flight ends whole with [DONE], and the log says what it waited for', async () => {
    const { lines, stopped, rest, handlersGone } = await serveWithStream(30, 40);
    process.emit('SIGTERM', 'SIGTERM');
    await stopped;
    const events = (await rest).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events.at(-2)?.slice('data: '.length) ?? '{}')).toMatchObject({ choices: [{ finish_reason: 'length' }] });
    expect(lines).toEqual([
      'serve: SIGTERM: draining: no new requests (503); waiting up to 30 s for 1 request in flight (Ctrl-C or SIGTERM again cuts them off)',
      'serve: the 1 request in flight finished',
      'serve: stopped',
    ]);
    handlersGone();
  });

  it('when --shutdown-grace runs out, cuts off what is left and says how many', async () => {
    const { lines, stopped, rest, handlersGone } = await serveWithStream(0.3, 1000);
    process.emit('SIGINT', 'SIGINT');
    await stopped;
    await expect(rest).rejects.toThrow('terminated'); // not a clean end a client could take as the whole answer
    expect(lines.slice(1)).toEqual([
      'serve: the 0.3 s grace ran out: 0 of 1 request finished, 1 cut off (their clients see the connection close)',
      'serve: stopped',
    ]);
    handlersGone();
  });

  it('a second signal while draining cuts off at once', async () => {
    const { lines, stopped, rest, handlersGone } = await serveWithStream(30, 1000);
    const started = Date.now();
    process.emit('SIGTERM', 'SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    process.emit('SIGINT', 'SIGINT');
    await stopped;
    expect(Date.now() - started).toBeLessThan(5000); // not the 30 s grace
    await expect(rest).rejects.toThrow('terminated');
    expect(lines.slice(1)).toEqual([
      'serve: SIGINT while draining: cutting off 1 request now (their clients see the connection close)',
      'serve: stopped',
    ]);
    handlersGone();
  });

  it('--shutdown-grace 0: SIGTERM cuts off at once, as it says', async () => {
    const { lines, stopped, rest, handlersGone } = await serveWithStream(0, 1000);
    process.emit('SIGTERM', 'SIGTERM');
    await stopped;
    expect(lines).toEqual([
      'serve: SIGTERM: stopping; 1 request in flight cut off (their clients see the connection close)',
      'serve: stopped',
    ]);
    await expect(rest).rejects.toThrow('terminated');
    handlersGone();
  });

  it('explains bad options', async () => {
    await expect(run({ checkpoint: join(dir, 'ckpt'), port: 70000 })).rejects.toThrow(/port/);
    await expect(run({ checkpoint: join(dir, 'ckpt'), shutdownGrace: -1 })).rejects.toThrow(
      /--shutdown-grace: must be 0 \(cut requests off at once\) or more seconds/,
    );
  });
});
