// The LLM length predictor against the real local test LLM server: the assessor prompt goes out, 5xx and
// hung requests are retried by the client, unusable replies are re-asked with the validation error, the
// prediction cache answers a rerun with no HTTP call (but not with a stored range that breaks the rules), a
// repeated prompt is named by its first index, and the API key stays out of errors. Also through the "llm"
// registry entry and a rewards config naming it.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlmClient, type LlmClientConfigInput } from '@lwz/llm-client';
import { errorOf, startTestLlmServer, type FaultKind, type TestLlmServer, type TestRequest } from '@lwz/llm-client/testing';
import {
  LENGTH_ASSESSOR_VERSION,
  buildLengthAssessorMessages,
  createLengthPredictor,
  parseRewardsConfig,
  predictRangeFromFeatures,
  scoreRewards,
} from '@lwz/rewards';
import { LlmLengthPredictor, type LlmLengthPredictorOptions } from './index';

type Msg = { role: string; content: string };
const messagesOf = (r: TestRequest) => r.body.messages as Msg[];
/** the writing request inside our assessor prompt */
const requestOf = (r: TestRequest) => /Writing request:\n"""\n([\s\S]*)\n"""/.exec(messagesOf(r)[1].content)?.[1] ?? '';
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `lwz-length-${name}-`));

/** Answers {"range": ranges[request]}, or [500, 1000] for requests it does not know. */
const rangeResponder = (ranges: Record<string, [number, number]>) => (r: TestRequest) =>
  JSON.stringify({ range: ranges[requestOf(r)] ?? [500, 1000] });

/** The fault for the server's n-th request (1-based), none after the list. */
const faultPlan = (kinds: (FaultKind | null)[]) => (r: TestRequest) => kinds[r.call - 1] ?? null;

let server: TestLlmServer;
afterEach(async () => server?.close());

function client(config: Partial<LlmClientConfigInput> = {}, env: NodeJS.ProcessEnv = {}): LlmClient {
  return new LlmClient(
    { baseUrls: server.baseUrl, model: 'test-model', timeoutMs: 1000, backoffBaseMs: 2, maxRetries: 4, ...config },
    { env },
  );
}

const predictor = (options: LlmLengthPredictorOptions = {}, config: Partial<LlmClientConfigInput> = {}) =>
  new LlmLengthPredictor(client(config), options);

describe('LlmLengthPredictor', () => {
  it('sends our assessor prompt per prompt, all in flight under the client concurrency, and returns each range in order', async () => {
    const ranges: Record<string, [number, number]> = {
      'Write a wedding toast.': [300, 600],
      'Write a report on tidal energy.': [2000, 4000],
      'Write a haiku.': [0, 100],
      'Write a short story about a lighthouse.': [1500, 3000],
    };
    server = await startTestLlmServer({ responder: rangeResponder(ranges), latencyMs: 30 });
    const p = predictor({}, { concurrency: 2 });
    const prompts = Object.keys(ranges);
    const withRepeat = [...prompts, prompts[0]];
    expect(await p.predict(withRepeat)).toEqual(withRepeat.map((k) => ({ range: ranges[k] })));
    expect(server.calls).toBe(4); // the repeated prompt is asked once
    expect(server.maxInFlight).toBe(2);
    const sent = server.requests.find((r) => requestOf(r) === prompts[1]) as TestRequest;
    expect(messagesOf(sent)).toEqual(buildLengthAssessorMessages(prompts[1]));
    expect(sent.body.temperature).toBe(0);
    expect(sent.body.max_tokens).toBe(1024);
    expect(p.id).toBe(`llm:test-model@${LENGTH_ASSESSOR_VERSION}`);
    expect(p.stats()).toMatchObject({ asked: 4, cached: 0, fallbacks: 0 });
  });

  it('retries a 5xx and then takes the answer', async () => {
    server = await startTestLlmServer({ responder: rangeResponder({}), faults: faultPlan(['http500', 'http503']) });
    expect(await predictor().predict(['Write a poem.'])).toEqual([{ range: [500, 1000] }]);
    expect(server.calls).toBe(3);
    expect(server.faults.http500 + server.faults.http503).toBe(2);
  });

  it('retries a request that times out and then takes the answer', async () => {
    server = await startTestLlmServer({ responder: rangeResponder({}), faults: faultPlan(['hang']) });
    expect(await predictor({}, { timeoutMs: 150 }).predict(['Write a poem.'])).toEqual([{ range: [500, 1000] }]);
    expect(server.calls).toBe(2);
    expect(server.faults.hang).toBe(1);
  });

  it('re-asks a malformed JSON reply with the validation error, then accepts the valid one', async () => {
    server = await startTestLlmServer({
      responder: (r) => (messagesOf(r).length === 2 ? 'Sure: {"range": [800, 1200' : 'Sorry. {"range": [800, 1200]}'),
    });
    expect(await predictor().predict(['Write an essay.'])).toEqual([{ range: [800, 1200] }]);
    expect(server.calls).toBe(2);
    const second = messagesOf(server.requests[1]);
    expect(second.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(second[2].content).toBe('Sure: {"range": [800, 1200');
    expect(second[3].content).toBe(
      'That reply cannot be used: no JSON object with a "range" key; reply with {"range": [lo, hi]} only. ' +
        'Answer again and end with {"range": [lo, hi]}.',
    );
  });

  it('re-asks a range that breaks the rules (not multiples of 100, too wide) until one follows them', async () => {
    const replies = ['{"range": [850, 1200]}', '{"range": [1000, 5000]}', '{"range": [1000, 3000]}'];
    server = await startTestLlmServer({ responder: (r) => replies[(messagesOf(r).length - 2) / 2] });
    expect(await predictor().predict(['Write a guide.'])).toEqual([{ range: [1000, 3000] }]);
    expect(server.calls).toBe(3);
    expect(messagesOf(server.requests[1])[3].content).toMatch(
      /^That reply cannot be used: \[850, 1200\]: both bounds must be multiples of 100/,
    );
    expect(messagesOf(server.requests[2])[5].content).toMatch(/^That reply cannot be used: \[1000, 5000\]: hi - lo must be at most 3000/);
  });

  it('passes [0, 0] (a request that cannot be met) through as it is', async () => {
    server = await startTestLlmServer({ responder: () => '{"range": [0, 0]}' });
    expect(await predictor().predict(['Draw me a picture of a cat.'])).toEqual([{ range: [0, 0] }]);
    expect(server.calls).toBe(1);
  });

  it('answers a rerun with the same cacheDir from disk with no HTTP call; another model misses the cache', async () => {
    server = await startTestLlmServer({
      models: ['model-a', 'model-b'],
      responder: (r) => JSON.stringify({ range: r.body.model === 'model-a' ? [100, 200] : [300, 400] }),
    });
    const cacheDir = tmp('cache');
    const prompts = ['Write a limerick.', 'Write a eulogy.', 'Write a press release.'];
    const first = await predictor({ cacheDir }, { model: 'model-a' }).predict(prompts);
    expect(server.calls).toBe(3);
    const rerun = predictor({ cacheDir }, { model: 'model-a' });
    expect(await rerun.predict(prompts)).toEqual(first);
    expect(server.calls).toBe(3);
    expect(rerun.stats()).toMatchObject({ asked: 0, cached: 3, cache: { hits: 3, misses: 0 } });
    const other = predictor({ cacheDir }, { model: 'model-b' });
    expect(other.id).not.toBe(rerun.id);
    expect(await other.predict(prompts.slice(0, 1))).toEqual([{ range: [300, 400] }]);
    expect(server.calls).toBe(4);
  });

  it('asks again for a cached range that breaks the rules (not multiples of 100, hi > 12000, too wide, lo >= hi)', async () => {
    server = await startTestLlmServer({ responder: () => '{"range": [600, 900]}' });
    const cacheDir = tmp('bad-cache');
    const prompt = 'Write a speech for a retirement party.';
    expect(await predictor({ cacheDir }).predict([prompt])).toEqual([{ range: [600, 900] }]);
    const files = readdirSync(cacheDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const file = join(cacheDir, files[0]);
    const entry = JSON.parse(readFileSync(file, 'utf8'));
    expect(entry.response).toEqual({ range: [600, 900], asks: 1 });
    const store = (range: unknown) => writeFileSync(file, JSON.stringify({ ...entry, response: { range, asks: 1 } }));
    // an edited entry that follows the rules is served as it is: the edit keeps the entry readable
    store([700, 1000]);
    expect(await predictor({ cacheDir }).predict([prompt])).toEqual([{ range: [700, 1000] }]);
    expect(server.calls).toBe(1);
    const broken = [[650, 900], [600, 950], [11000, 12100], [1000, 4100], [900, 600], [600, 600], [-100, 200], [600], 'wide', null];
    for (const [k, range] of broken.entries()) {
      store(range);
      const p = predictor({ cacheDir });
      expect(await p.predict([prompt])).toEqual([{ range: [600, 900] }]);
      expect(server.calls).toBe(2 + k);
      expect(p.stats()).toMatchObject({ asked: 1, cached: 0, cache: { hits: 0, corrupt: 1, writes: 1 } });
    }
  });

  it('names a repeated prompt by its first index, in errors and to onFallback', async () => {
    server = await startTestLlmServer({ responder: (r) => (requestOf(r) === 'bad' ? '{"range": [5, 7]}' : '{"range": [100, 300]}') });
    const e = await errorOf(predictor({ fallback: 'throw', maxAttempts: 1 }).predict(['good', 'bad', 'good', 'bad']));
    expect(e.message).toMatch(/: prompt 1 got no valid range in 1 asks/);
    const seen: number[] = [];
    const got = await predictor({ maxAttempts: 1, onFallback: (i) => seen.push(i) }).predict(['bad', 'good', 'bad']);
    expect(got.map((g) => g.fallback === true)).toEqual([true, false, true]);
    expect(seen).toEqual([0]);
  });

  it('falls back to the built-in predictor when every ask fails, caches nothing then, and asks again on a rerun', async () => {
    let usable = false;
    server = await startTestLlmServer({ responder: () => (usable ? '{"range": [700, 900]}' : 'I would say about a page.') });
    const cacheDir = tmp('fallback');
    const seen: [number, string][] = [];
    const prompts = ['Write a cover letter.', 'Write a detailed history of the bicycle.'];
    const p = predictor({ cacheDir, maxAttempts: 2, onFallback: (i, reason) => seen.push([i, reason]) });
    expect(await p.predict(prompts)).toEqual(prompts.map((q) => ({ range: predictRangeFromFeatures(q), fallback: true })));
    expect(server.calls).toBe(4);
    expect(seen.map(([i]) => i).sort()).toEqual([0, 1]);
    expect(seen[0][1]).toMatch(/no JSON object with a "range" key/);
    expect(p.stats()).toMatchObject({ fallbacks: 2, cache: { writes: 0 } });
    usable = true;
    expect(await predictor({ cacheDir }).predict(prompts)).toEqual([{ range: [700, 900] }, { range: [700, 900] }]);
    expect(server.calls).toBe(6);
  });

  it('with fallback "throw", fails naming the prompt index and the last reason', async () => {
    server = await startTestLlmServer({ responder: (r) => (requestOf(r) === 'bad' ? '{"range": [5, 7]}' : '{"range": [100, 300]}') });
    const e = await errorOf(predictor({ fallback: 'throw', maxAttempts: 2 }).predict(['good', 'bad']));
    expect(e.message).toMatch(/^length predictor llm:test-model@lwz-length-assessor\/1: prompt 1 got no valid range in 2 asks/);
    expect(e.message).toMatch(/\[5, 7\]: both bounds must be multiples of 100/);
    expect(e.message).toMatch(/raise length\.predictor\.options\.maxAttempts/);
  });

  it('keeps the API key out of thrown errors: a 401 that echoes it, and replies that echo it', async () => {
    const KEY = 'sk-lwz-length-0123456789abcdef';
    const WRONG = 'sk-lwz-length-wrong-fedcba987654';
    server = await startTestLlmServer({ apiKey: KEY, responder: (r) => `my key is ${String(r.headers.authorization)}` });
    const config = { apiKeyEnv: 'LWZ_LENGTH_KEY' };
    const wrong = new LlmLengthPredictor(client(config, { LWZ_LENGTH_KEY: WRONG }));
    const e401 = await errorOf(wrong.predict(['Write a memo.']));
    expect(e401.message).toMatch(/^length predictor .*: prompt 0: .*HTTP 401/);
    expect(e401.message).toContain('Bearer [REDACTED]');
    const echoed = new LlmLengthPredictor(client(config, { LWZ_LENGTH_KEY: KEY }), { fallback: 'throw', maxAttempts: 2 });
    const eReply = await errorOf(echoed.predict(['Write a memo.']));
    expect(eReply.message).toMatch(/prompt 0 got no valid range in 2 asks/);
    expect(eReply.message).toContain('Bearer [REDACTED]');
    for (const e of [e401, eReply]) {
      const everything = [String(e), e.message, e.stack, JSON.stringify(e), String((e as { cause?: unknown }).cause)].join('\n');
      expect(everything).not.toContain(WRONG);
      expect(everything).not.toContain(KEY);
    }
  });
});

describe('the "llm" length predictor in the registry and the rewards config', () => {
  it('is created by name with validated options; unknown or bad fields name length.predictor.options.<field>', async () => {
    server = await startTestLlmServer({ responder: rangeResponder({ 'Write a toast.': [200, 400] }) });
    const cacheDir = tmp('registry');
    const options = { baseUrls: server.baseUrl, model: 'test-model', timeoutMs: 1000, backoffBaseMs: 2, maxAttempts: 2, cacheDir };
    const p = createLengthPredictor('llm', options);
    expect(p).toBeInstanceOf(LlmLengthPredictor);
    expect(await p.predict(['Write a toast.'])).toEqual([{ range: [200, 400] }]);
    expect(await createLengthPredictor('llm', options).predict(['Write a toast.'])).toEqual([{ range: [200, 400] }]);
    expect(server.calls).toBe(1);
    // the request settings reach the endpoint and are part of the cache key: a changed one asks again
    const hot = createLengthPredictor('llm', { ...options, temperature: 0.7, maxTokens: 4096 });
    expect(await hot.predict(['Write a toast.'])).toEqual([{ range: [200, 400] }]);
    expect(server.calls).toBe(2);
    expect(server.requests[1].body).toMatchObject({ temperature: 0.7, max_tokens: 4096 });
    expect(() => createLengthPredictor('llm', { ...options, temprature: 0 })).toThrow(
      /length\.predictor\.options\.temprature: unknown field \(valid: baseUrls, model, .*maxAttempts, fallback, temperature, maxTokens\)/,
    );
    expect(() => createLengthPredictor('llm', { ...options, maxTokens: 0 })).toThrow(/length\.predictor\.options\.maxTokens: /);
    expect(() => createLengthPredictor('llm', { ...options, maxAttempts: 0 })).toThrow(/length\.predictor\.options\.maxAttempts: /);
    expect(() => createLengthPredictor('llm', { ...options, fallback: 'skip' })).toThrow(/length\.predictor\.options\.fallback: /);
    expect(() => createLengthPredictor('llm', { baseUrls: server.baseUrl })).toThrow(/length\.predictor\.options\.model: /);
  });

  it('serves the target range of a rewards config naming "llm" end to end (scoreRewards)', async () => {
    server = await startTestLlmServer({ responder: rangeResponder({ 'Write a toast for my sister.': [300, 500] }) });
    const config = parseRewardsConfig({
      length: {
        predictor: { name: 'llm', options: { baseUrls: server.baseUrl, model: 'test-model', backoffBaseMs: 2, cacheDir: tmp('e2e') } },
      },
    });
    const answer = (n: number) => `<think>plan</think><answer>${'word '.repeat(n).trim()}</answer>`;
    const rows = [
      { prompt: 'Write a toast for my sister.', response: answer(400) },
      { prompt: 'Write a toast for my sister.', response: answer(150) },
      { prompt: 'Write about 200 words on rain.', response: answer(200) },
    ];
    const batch = await scoreRewards(rows, config);
    expect(batch.rows.map((r) => [r.target_range, r.target_source])).toEqual([
      [[300, 500], 'predictor'],
      [[300, 500], 'predictor'],
      [[180, 220], 'prompt'],
    ]);
    expect(batch.rows[0].rewards.length).toBe(1);
    expect(batch.rows[1].rewards.length).toBeCloseTo(150 / 300, 12);
    expect(server.calls).toBe(1); // one distinct prompt without an explicit length
  });
});
