// A small version of the serve load test (the full one is benchmarks/rollout/serve-load.ts): 8 clients, 150
// requests mixing good and bad bodies against a server that admits 3 requests and queues 2, so some good
// requests meet a 429 and are retried. Every good request ends in a complete answer, every bad one in the
// right 4xx, and the server ends idle.
import { Rng } from '@lwz/core';
import { initModel } from '@lwz/model';
import { LocalRollout } from '../local-backend';
import { byteTokenizer } from '../testing/byte-tokenizer';
import { smallTestConfig } from '../testing/model-config';
import { runLoadTest } from './load-test';
import { startServer } from './openai-server';

it('answers every good request and rejects every bad one under load', async () => {
  const tok = byteTokenizer();
  const model = initModel(
    smallTestConfig({ vocabSize: tok.vocabSize, numLayers: 1, numHeads: 2, numKvHeads: 1, headDim: 16, initializerRange: 0.2 }),
    new Rng(1),
  );
  const rollout = new LocalRollout(model, tok, { maxBatch: 16 });
  const server = await startServer(rollout, { port: 0, modelName: 'm', maxBodyBytes: 2048, maxTokens: 32, maxConcurrent: 3, maxQueued: 2 });
  try {
    const r = await runLoadTest({ url: server.url, model: 'm', clients: 8, requests: 150, maxBodyBytes: 2048, maxTokens: 32, seed: 5 });
    expect(r.failures).toEqual([]);
    expect(r.goodAnswered).toBe(r.good);
    expect(r.badRejected).toBe(r.bad);
    expect(r.bad).toBeGreaterThan(20);
    expect(r.retried429).toBeGreaterThan(0);
    expect(server.stats().running).toBe(0);
    expect(rollout.engine.load).toEqual({ running: 0, queued: 0 });
  } finally {
    await server.close();
  }
});
