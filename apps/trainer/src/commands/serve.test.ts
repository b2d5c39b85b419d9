// `lwz-train serve` starts on a loopback address with the checkpoint directory's name as the model name,
// answers /v1/models and a completion, rejects bad options with a message naming the field, and on SIGINT or
// SIGTERM stops saying how many requests it cut off.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('SIGTERM with a request in flight: stops, says it cut one off, and the client sees the stream end unfinished', async () => {
    const { server, rollout } = await run({ checkpoint: join(dir, 'ckpt'), port: 0 });
    const listeners = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const lines: string[] = [];
    const stopped = stopOnSignal(server, rollout, (line) => lines.push(line));
    const res = await fetch(`${server.url}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'ckpt', prompt: 'The sea', max_tokens: 1000, ignore_eos: true, stream: true }),
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the stream has begun
    process.emit('SIGTERM', 'SIGTERM');
    await stopped;
    expect(lines).toEqual([
      'serve: SIGTERM: stopping; 1 request in flight cut off (their clients see the connection close)',
      'serve: stopped',
    ]);
    const drain = async (): Promise<void> => {
      while (!(await reader.read()).done);
    };
    await expect(drain()).rejects.toThrow('terminated'); // not a clean end a client could take as the whole answer
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(listeners); // both handlers gone
  });

  it('explains bad options', async () => {
    await expect(run({ checkpoint: join(dir, 'ckpt'), port: 70000 })).rejects.toThrow(/port/);
  });
});
