// RemoteRollout against our own `serve` (same token ids, log-probs, texts and finish reasons as a local
// generate() of the same model and seed) and against a flaky server: @lwz/llm-client's fault-injecting test
// server in front of `serve` (5xx, 429, a hang past the timeout, a dropped connection, malformed and
// wrong-shaped bodies) still yields exactly the clean run's answers, through retries. Every sampling setting
// reaches the server under its vLLM name, and token_id:N tokens map back to ids (an alternative printed as text keeps
// id -1 and its text).
import { Rng } from '@lwz/core';
import { initModel } from '@lwz/model';
import { startTestLlmServer, type TestLlmServer } from '@lwz/llm-client/testing';
import { LocalRollout } from './local-backend';
import { RemoteRollout } from './remote-backend';
import { promptSeed } from './rng-streams';
import { startServer, type RunningServer } from './server/openai-server';
import { byteTokenizer } from './testing/byte-tokenizer';
import { smallTestConfig } from './testing/model-config';
import type { Completion } from './types';

const tok = byteTokenizer();
const config = smallTestConfig({ vocabSize: tok.vocabSize, eosTokenId: tok.tokenToId('<|endoftext|>') });
const PROMPTS = ['Once upon a time', 'The answer is', 'Q', 'Seven seas'].map((t) => ({ ids: tok.encode(t) }));
const OPTIONS = { n: 3, temperature: 0.9, topP: 0.95, maxNewTokens: 16, seed: 21, stop: ['e', 'a'] };

let local: LocalRollout;
let server: RunningServer;
let flaky: TestLlmServer;

beforeAll(async () => {
  local = new LocalRollout(initModel(config, new Rng(4)), tok, { maxBatch: 8 });
  server = await startServer(local, { port: 0, modelName: 'policy' });
  flaky = await startTestLlmServer({
    models: ['policy'],
    // the first calls get one fault of every kind, then every third call a 503
    faults: (req) =>
      (['hang', 'drop', 'http500', 'http429', 'malformed', 'wrong-shape', 'http503'] as const)[req.call - 1] ??
      (req.call % 3 ? null : 'http503'),
    responder: async (req) => {
      const res = await fetch(`${server.url}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(req.body),
      });
      return { status: res.status, body: await res.json() };
    },
  });
});
afterAll(async () => {
  await flaky?.close();
  await server?.close();
  await local?.close();
});

const view = (r: Completion[][]) =>
  r.map((g) => g.map((c) => ({ ids: c.tokenIds, text: c.text, finish: c.finishReason, sample: c.sampleIndex })));

describe('RemoteRollout', () => {
  it('over serve gives what a local generate() gives', async () => {
    const want = await local.generate(PROMPTS, OPTIONS);
    const remote = new RemoteRollout({ baseUrls: server.url, tokenizer: tok });
    const done: Completion[] = [];
    const got = await remote.generate(PROMPTS, OPTIONS, { onCompletion: (c) => done.push(c) });
    expect(view(got)).toEqual(view(want));
    got.flat().forEach((c, i) => expect(c.logprobs).toBeAllClose(want.flat()[i].logprobs, { atol: 1e-5, rtol: 0 }));
    expect(done).toHaveLength(PROMPTS.length * OPTIONS.n);
    expect(got.flat().some((c) => c.finishReason === 'stop')).toBe(true);
  });

  it('through a flaky server (errors, hangs, drops, bad bodies) gives the clean answers', async () => {
    const clean = await new RemoteRollout({ baseUrls: server.url }).generate(PROMPTS, OPTIONS);
    const remote = new RemoteRollout({
      baseUrls: flaky.baseUrl,
      model: 'policy',
      contextLength: 128,
      timeoutMs: 1000,
      maxRetries: 20,
      backoffBaseMs: 1,
      backoffMaxMs: 5,
      rng: new Rng(1),
    });
    const got = await remote.generate(PROMPTS, OPTIONS);
    expect(view(got)).toEqual(view(clean));
    const injected = Object.values(flaky.faults).reduce((a, b) => a + b, 0);
    expect(Object.values(flaky.faults).every((n) => n > 0)).toBe(true);
    expect(remote.client.stats().retries).toBe(injected);
  });

  it("over serve, top-k, min-p, the repetition penalty, stop ids, ignoreEos and a prompt's index and samples give the local answers", async () => {
    const settings = {
      n: 3,
      temperature: 1.1,
      topK: 12,
      minP: 0.2,
      repetitionPenalty: 1.4,
      maxNewTokens: 16,
      seed: 8,
      stop: [],
      stopTokenIds: [] as number[],
      ignoreEos: true,
      skipSpecialTokens: true,
      includeStopString: false,
    };
    const prompts = [{ ...PROMPTS[0], index: 5, samples: [0, 2] }, PROMPTS[1]];
    // stop ids the answers do draw: each answer's fourth token without them
    settings.stopTokenIds = (await local.generate(prompts, settings)).flat().map((c) => c.tokenIds[3]);
    const want = await local.generate(prompts, settings);
    const got = await new RemoteRollout({ baseUrls: server.url, tokenizer: tok }).generate(prompts, settings);
    expect(view(got)).toEqual(view(want));
    expect(got[0].map((c) => c.sampleIndex)).toEqual([0, 2]);
    // each setting changes the answers (else this test could not see it dropped on the way)
    for (const off of [{ topK: 0 }, { minP: 0 }, { repetitionPenalty: 1 }, { stopTokenIds: [] }, { index: 0 }]) {
      const { index, ...over } = { index: 5, ...off };
      const other = await local.generate([{ ...prompts[0], index }, prompts[1]], { ...settings, ...over });
      expect({ off, same: JSON.stringify(view(other)) === JSON.stringify(view(want)) }).toEqual({ off, same: false });
    }
  });

  it('sends each sampling setting under its vLLM name, and maps token_id:N tokens and top log-probs back', async () => {
    const bodies: Record<string, unknown>[] = [];
    const fake = await startTestLlmServer({
      models: ['m'],
      responder: (req) => {
        bodies.push(req.body);
        return Array.from({ length: req.n }, (_, j) => ({
          text: `x${j}y`,
          tokens: ['token_id:7', `token_id:${10 + j}`, 'token_id:8'],
          tokenIds: [7, 10 + j, 8],
          logprobs: [-1, -2, -3],
        }));
      },
    });
    try {
      const remote = new RemoteRollout({ baseUrls: fake.baseUrl, model: 'm', contextLength: 64 });
      const config = { n: 2, temperature: 0.7, topP: 0.9, topK: 5, minP: 0.1, repetitionPenalty: 1.3, maxNewTokens: 16, seed: 5 };
      const more = {
        stop: ['</answer>'],
        stopTokenIds: [7],
        ignoreEos: true,
        includeStopString: false,
        skipSpecialTokens: true,
        topLogprobs: 1,
      };
      const [[a, b]] = await remote.generate([{ ids: [1, 2, 3], index: 3 }], { ...config, ...more });
      expect(bodies[0]).toMatchObject({
        prompt: [1, 2, 3],
        n: 2,
        max_tokens: 16,
        temperature: 0.7,
        top_p: 0.9,
        top_k: 5,
        min_p: 0.1,
        repetition_penalty: 1.3,
        stop: ['</answer>'],
        stop_token_ids: [7],
        ignore_eos: true,
        include_stop_str_in_output: false,
        skip_special_tokens: true,
        seed: promptSeed(5, 3),
        logprobs: 1,
        return_token_ids: true,
        return_tokens_as_token_ids: true,
      });
      expect([a.tokenIds, b.tokenIds, a.logprobs]).toEqual([
        [7, 10, 8],
        [7, 11, 8],
        [-1, -2, -3],
      ]);
      expect(b.topLogprobs?.map((alts) => alts.map((t) => t.id))).toEqual([[7], [11], [8]]);
      await remote.generate([{ ids: [1, 2, 3] }], { maxNewTokens: 4, skipSpecialTokens: false });
      expect(bodies[1]).toMatchObject({ include_stop_str_in_output: true, skip_special_tokens: false, seed: promptSeed(0, 0) });
    } finally {
      await fake.close();
    }
  });

  /** A raw one-choice completions reply with the given logprobs and no token_ids (a server that ignores return_token_ids). */
  const replyWithoutIds = (logprobs: Record<string, unknown>) => ({
    id: 'c1',
    object: 'text_completion',
    created: 0,
    model: 'm',
    choices: [{ index: 0, text: 'xy', finish_reason: 'length', logprobs }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  });

  it('maps token_id:N tokens back to ids when the server sends no token_ids', async () => {
    // the ids come from the printed tokens
    const tokens = ['token_id:17', 'token_id:203'];
    const body = replyWithoutIds({ tokens, token_logprobs: [-1, -2], top_logprobs: null, text_offset: [0, 1] });
    const fake = await startTestLlmServer({ models: ['m'], responder: () => ({ status: 200, body }) });
    try {
      const remote = new RemoteRollout({ baseUrls: fake.baseUrl, model: 'm', contextLength: 64 });
      const [[c]] = await remote.generate([{ ids: [1, 2, 3] }], { n: 1, maxNewTokens: 2 });
      expect([c.tokenIds, c.logprobs]).toEqual([
        [17, 203],
        [-1, -2],
      ]);
    } finally {
      await fake.close();
    }
  });

  it('keeps a top alternative printed as text with id -1 and its text, and re-encodes an answer printed with no tokens', async () => {
    // alternatives: one as token_id:N, one as text (no id to give); then a reply whose logprobs list no tokens
    const top = [{ 'token_id:17': -1, ' the': -1.5 }, { 'token_id:203': -2 }];
    let body = replyWithoutIds({ tokens: ['token_id:17', 'token_id:203'], token_logprobs: [-1, -2], top_logprobs: top });
    const fake = await startTestLlmServer({ models: ['m'], responder: () => ({ status: 200, body }) });
    try {
      const remote = new RemoteRollout({ baseUrls: fake.baseUrl, model: 'm', contextLength: 64, tokenizer: tok });
      const [[c]] = await remote.generate([{ ids: [1, 2, 3] }], { n: 1, maxNewTokens: 2, topLogprobs: 2 });
      expect([c.tokenIds, c.topLogprobs]).toEqual([
        [17, 203],
        [
          [
            { id: 17, logprob: -1 },
            { id: -1, logprob: -1.5, token: ' the' },
          ],
          [{ id: 203, logprob: -2 }],
        ],
      ]);
      // no printed token to read an id from: the text 'xy' is re-encoded (not taken as an answer of no tokens)
      body = replyWithoutIds({ tokens: [], token_logprobs: [] });
      const [[empty]] = await remote.generate([{ ids: [1, 2, 3] }], { n: 1, maxNewTokens: 2 });
      expect(empty.tokenIds).toEqual(tok.encode('xy', { addSpecialTokens: false }));
    } finally {
      await fake.close();
    }
  });

  it('answers in the order of `samples`, as LocalRollout does, and names a choice the server left out', async () => {
    let count = 3;
    const fake = await startTestLlmServer({
      models: ['m'],
      responder: (req) =>
        Array.from({ length: Math.min(req.n, count) }, (_, j) => ({
          text: `c${j}`,
          tokens: [`token_id:${20 + j}`],
          tokenIds: [20 + j],
          logprobs: [-j],
        })),
    });
    try {
      const remote = new RemoteRollout({ baseUrls: fake.baseUrl, model: 'm', contextLength: 64 });
      const [got] = await remote.generate([{ ids: [1, 2], samples: [2, 0] }], { n: 3, maxNewTokens: 4 });
      expect(got.map((c) => [c.sampleIndex, c.tokenIds])).toEqual([
        [2, [22]],
        [0, [20]],
      ]);
      const [want] = await local.generate([{ ...PROMPTS[0], samples: [2, 0] }], OPTIONS);
      expect(want.map((c) => c.sampleIndex)).toEqual([2, 0]); // the local backend's order, the interface's
      count = 1; // a server that returns fewer choices than n
      await expect(remote.generate([{ ids: [1, 2] }], { n: 2, maxNewTokens: 4 })).rejects.toThrow(
        /answered prompt 0 without choice 1 of the n = 2 asked \(its choices: 0\)/,
      );
    } finally {
      await fake.close();
    }
  });

  it('asks the server for the model and context; explains missing lengths', async () => {
    const remote = new RemoteRollout({ baseUrls: server.url });
    const [[c]] = await remote.generate([PROMPTS[2]], { temperature: 0, ignoreEos: true, stop: [] });
    expect(c.tokenIds).toHaveLength(128 - PROMPTS[2].ids.length);
    const textOnly = new RemoteRollout({ baseUrls: server.url, model: 'policy', contextLength: 128 });
    await expect(textOnly.generate([{ text: 'hi' }])).rejects.toThrow(/give maxNewTokens/);
  });

  it("caps each prompt's answer by its own room in the context, not the whole batch by the longest prompt", async () => {
    const remote = new RemoteRollout({ baseUrls: server.url });
    const long = { ids: tok.encode('x'.repeat(122)) }; // 6 tokens of room in the 128-token context
    const out = await remote.generate([PROMPTS[0], long], { temperature: 0, ignoreEos: true, stop: [], maxNewTokens: 16 });
    expect(out.map(([c]) => [c.tokenIds.length, c.finishReason])).toEqual([
      [16, 'length'],
      [6, 'length'],
    ]);
    await expect(remote.generate([{ ids: tok.encode('x'.repeat(128)) }], { maxNewTokens: 4 })).rejects.toThrow(
      /prompt 0 has 128 tokens: no room left in the 128-token context/,
    );
  });
});
