// The chat judges against the local test LLM server: prompts carry what the protocol says, unusable replies
// are re-asked with a follow-up, faults are retried by the client, and the disk cache answers a rerun.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlmClient } from '@lwz/llm-client';
import { startTestLlmServer, type TestLlmServer } from '@lwz/llm-client/testing';
import { ChatCriteriaJudge } from './chat-criteria-judge';
import { ChatPairwiseJudge } from './pairwise';
import { PromptTemplate } from './template';
import { CRITERIA_FIELDS } from './prompts';
import { fakeJudgeResponder } from './testing';
import { createQualityScorer, scoreQuality } from '@lwz/rewards';
import './quality-scorer';

const criterion = { name: 'Depth', description: 'Covers the topic in depth.', bands: { '1-2': 'shallow', '9-10': 'deep' } };
const quality = (t: string) => Number(/q=([\d.]+)/.exec(t)?.[1] ?? 0.5);

let server: TestLlmServer;
afterEach(async () => server?.close());

function client(cacheDir?: string): LlmClient {
  return new LlmClient({
    baseUrls: server.baseUrl,
    model: 'test-model',
    timeoutMs: 1000,
    backoffBaseMs: 2,
    maxRetries: 8,
    cacheDir,
    id: 'judge',
  });
}

describe('ChatCriteriaJudge', () => {
  it('scores in range, re-asks an out-of-range score with a follow-up, and sends the criterion', async () => {
    server = await startTestLlmServer({ responder: fakeJudgeResponder({ quality, badFirstShare: 1 }) });
    const judge = new ChatCriteriaJudge(client(), { range: [1, 10] });
    const j = await judge.judge({ query: 'Write about tides.', response: 'Tides q=0.9 rise.', criterion });
    expect(j.score).toBeGreaterThanOrEqual(9);
    expect(j.asks).toBe(2);
    const second = server.requests[1].body as { messages: { role: string; content: string }[] };
    expect(second.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(second.messages[3].content).toMatch(
      /^That reply cannot be used: the JSON does not fit: score: .*end with {"score": <integer from 1 to 10>/,
    );
    expect(second.messages[1].content).toContain('Name: Depth\nWhat it measures: Covers the topic in depth.\nScore bands:\n  1-2: shallow');
    expect(judge.id).toBe('chat-criteria:test-model@critic-1/1-10');
  });

  it('re-asks a score just outside the range (0, then 11 for 1-10), defaults to 1-10, and refuses an empty range', async () => {
    const replies = ['{"score": 0, "reason": "low"}', '{"score": 11, "reason": "high"}', '{"score": 10, "reason": "top"}'];
    server = await startTestLlmServer({ responder: (req) => replies[((req.body.messages as unknown[]).length - 2) / 2] });
    const judge = new ChatCriteriaJudge(client());
    expect(judge.range).toEqual([1, 10]);
    expect(await judge.judge({ query: 'q', response: 'r', criterion })).toMatchObject({ score: 10, reason: 'top', asks: 3 });
    expect(() => new ChatCriteriaJudge(client(), { range: [5, 5] })).toThrow(/range must be integers lo < hi, got \[5, 5\]/);
  });

  it('re-asks a score that is not an integer (the protocol: an integer in range)', async () => {
    server = await startTestLlmServer({
      responder: (req) =>
        (req.body.messages as unknown[]).length > 2 ? '{"score": 7, "reason": "whole"}' : '{"score": 7.5, "reason": "half"}',
    });
    const j = await new ChatCriteriaJudge(client()).judge({ query: 'q', response: 'r', criterion });
    expect(j).toMatchObject({ score: 7, reason: 'whole', asks: 2 });
  });

  it('gives score null with the reason when every reply is unusable; more attempts on a rerun ask further', async () => {
    server = await startTestLlmServer({
      responder: (req) => ((req.body.messages as unknown[]).length > 4 ? '{"score": 6, "reason": "at last"}' : 'no json here'),
    });
    const cacheDir = mkdtempSync(join(tmpdir(), 'lwz-judge-giveup-'));
    const item = { query: 'q', response: 'r', criterion };
    const j = await new ChatCriteriaJudge(client(cacheDir), { maxAttempts: 2 }).judge(item);
    expect(j).toMatchObject({ score: null, asks: 2 });
    expect(j.reason).toMatch(/^no usable reply \(the reply holds no JSON object\); last reply: no json here$/);
    expect(server.calls).toBe(2);
    const again = await new ChatCriteriaJudge(client(cacheDir), { maxAttempts: 3 }).judge(item);
    expect(again).toMatchObject({ score: 6, reason: 'at last', asks: 3, cached: false });
    expect(server.calls).toBe(3); // the first two asks came from the cache
  });

  it('gives the same scores under 30 % faults, and a cached rerun makes no call', async () => {
    const items = Array.from({ length: 12 }, (_, i) => ({ query: `prompt ${i}`, response: `answer q=${(i / 12).toFixed(2)}`, criterion }));
    server = await startTestLlmServer({ responder: fakeJudgeResponder({ quality }) });
    const clean = await new ChatCriteriaJudge(client()).judgeAll(items);
    await server.close();
    server = await startTestLlmServer({
      responder: fakeJudgeResponder({ quality }),
      faults: { rate: 0.3, seed: 3, kinds: ['http500', 'http503', 'hang', 'malformed', 'drop'] },
    });
    const cacheDir = mkdtempSync(join(tmpdir(), 'lwz-judge-cache-'));
    const faulty = await new ChatCriteriaJudge(client(cacheDir)).judgeAll(items);
    expect(Object.values(server.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(faulty.map((j) => [j.score, j.reason])).toEqual(clean.map((j) => [j.score, j.reason]));
    const calls = server.calls;
    const again = await new ChatCriteriaJudge(client(cacheDir)).judgeAll(items);
    expect(server.calls).toBe(calls);
    expect(again.every((j) => j.cached)).toBe(true);
    expect(again.map((j) => j.score)).toEqual(clean.map((j) => j.score));
  }, 30000);

  it('uses a user template without our system message, and its id says so', async () => {
    server = await startTestLlmServer({ responder: () => '{"score": 4, "reason": "ok"}' });
    const template = new PromptTemplate('Rate {response} for {criterion_name} from {min} to {max}.', 'mine.txt', CRITERIA_FIELDS, [
      'response',
    ]);
    const judge = new ChatCriteriaJudge(client(), { template, range: [1, 5] });
    expect(await judge.judge({ query: 'q', response: 'text', criterion })).toMatchObject({ score: 4, reason: 'ok', asks: 1 });
    expect((server.requests[0].body as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: 'Rate text for Depth from 1 to 5.' },
    ]);
    expect(judge.id).toMatch(/^chat-criteria:test-model@custom-[0-9a-f]{8}\/1-5$/);
  });
});

describe('ChatPairwiseJudge', () => {
  it('shows request, A then B, reads the last label, and re-asks a reply without one', async () => {
    server = await startTestLlmServer({ responder: fakeJudgeResponder({ quality, badFirstShare: 1 }) });
    const judge = new ChatPairwiseJudge(client(), { levels: 5 });
    const [v] = await judge.judge([{ prompt: 'Write a poem.', a: 'poem q=0.9', b: 'poem q=0.2' }]);
    expect(v.label).toBe('A>>B');
    expect(v.asks).toBe(2);
    const user = (server.requests[0].body as { messages: { content: string }[] }).messages[1].content;
    expect(user.indexOf('Write a poem.')).toBeLessThan(user.indexOf('poem q=0.9'));
    expect(user.indexOf('poem q=0.9')).toBeLessThan(user.indexOf('poem q=0.2'));
    expect(user).toContain('[[A>>B]], [[A>B]], [[A=B]], [[B>A]], [[B>>A]]');
    expect(judge.cachesJudgments).toBe(false);
  });

  it('a 3-level judge offers three labels and reads a strong label as the plain one', async () => {
    server = await startTestLlmServer({ responder: fakeJudgeResponder({ quality, badFirstShare: 0 }) });
    const judge = new ChatPairwiseJudge(client(mkdtempSync(join(tmpdir(), 'lwz-pw-'))), { levels: 3 });
    const verdicts = await judge.judge([
      { prompt: 'p', a: 'x q=0.1', b: 'y q=0.9' },
      { prompt: 'p', a: 'x q=0.5', b: 'y q=0.51' },
    ]);
    expect(verdicts.map((v) => v.label)).toEqual(['B>A', 'A=B']);
    const user = (server.requests[0].body as { messages: { content: string }[] }).messages[1].content;
    expect(user).toContain('[[A>B]], [[A=B]], [[B>A]]');
    expect(user).not.toContain('[[A>>B]]');
    expect(judge.cachesJudgments).toBe(true);
  });
});

describe('a judge that is down', () => {
  it('fails a batch at its first failure, naming the item, instead of retrying every item in turn', async () => {
    server = await startTestLlmServer({ faults: () => 'http503' });
    const down = new LlmClient({
      baseUrls: server.baseUrl,
      model: 'test-model',
      timeoutMs: 1000,
      backoffBaseMs: 2,
      backoffMaxMs: 20,
      maxRetries: 2,
      concurrency: 2,
    });
    const items = Array.from({ length: 40 }, (_, k) => ({ query: `Write piece ${k} about tides.`, response: 'Tides.', criterion }));
    await expect(new ChatCriteriaJudge(down, { range: [1, 10] }).judgeAll(items)).rejects.toThrow(
      /^judging criterion "Depth" of the answer to "Write piece \d+ about tides\.": .*HTTP 503/,
    );
    // the slots go round in order, so most items had their first try before the first item's third; none gets
    // a second once it gave up: about one request an item, against 120 (every item's three: what a build without the abort sent)
    expect(server.calls).toBeLessThanOrEqual(45);
    const pairs = Array.from({ length: 20 }, (_, k) => ({ prompt: `Write piece ${k}.`, a: 'one', b: 'two' }));
    const before = server.calls;
    await expect(new ChatPairwiseJudge(down, { levels: 5 }).judge(pairs)).rejects.toThrow(
      /^judging two answers to "Write piece \d+\.": .*HTTP 503/,
    );
    expect(server.calls - before).toBeLessThanOrEqual(35); // every pair's three tries would be 60
  });
});

describe('chat-judge quality scorer', () => {
  it('is registered with the rewards lib, grades the answer block 1-10 and maps it to [0, 1]', async () => {
    server = await startTestLlmServer({ responder: fakeJudgeResponder({ quality, badFirstShare: 0 }) });
    const scorer = createQualityScorer('chat-judge', { baseUrls: server.baseUrl, model: 'test-model', timeoutMs: 1000 });
    const scores = await scoreQuality(scorer, [
      { prompt: 'p', response: '<think>plan q=0.0</think><answer>text q=1.0</answer>', answer: 'text q=1.0' },
      { prompt: 'p', response: 'no blocks q=0.0', answer: null },
    ]);
    expect(scores[0].raw).toBeGreaterThanOrEqual(9);
    expect(scores[0].score).toBeCloseTo(((scores[0].raw as number) - 1) / 9, 12);
    expect(scores[1].raw).toBeLessThanOrEqual(2);
    const user = (server.requests[0].body as { messages: { content: string }[] }).messages[1].content;
    expect(user).toContain('Name: Overall writing quality');
    expect(user).toContain('<response>\ntext q=1.0\n</response>');
    expect(scorer.id).toBe('judge:chat-criteria:test-model@critic-1/1-10#quality-1');
    expect(() => createQualityScorer('chat-judge', { baseUrls: server.baseUrl, model: 'm', temprature: 0 })).toThrow(
      /unknown field\(s\) temprature/,
    );
    expect(scores.some((s) => s.fallback)).toBe(false);
  });

  it('maps a 1-10 grade g to (g - 1) / 9: 1 -> 0, 4 -> 1/3, 10 -> 1', async () => {
    await server.close();
    const grades = [1, 4, 10];
    server = await startTestLlmServer({
      responder: (req) => {
        const user = (req.body.messages as { content: string }[])[1].content;
        return `{"score": ${grades[Number(/answer (\d)/.exec(user)?.[1])]}, "reason": "r"}`;
      },
    });
    const scorer = createQualityScorer('chat-judge', { baseUrls: server.baseUrl, model: 'test-model', timeoutMs: 1000 });
    const scores = await scoreQuality(
      scorer,
      grades.map((_, i) => ({ prompt: 'p', response: `answer ${i}`, answer: `answer ${i}` })),
    );
    expect(scores.map((s) => s.raw)).toEqual(grades);
    expect(scores[0].score).toBe(0);
    expect(scores[1].score).toBeCloseTo(1 / 3, 12);
    expect(scores[2].score).toBe(1);
  });

  it('marks an answer the judge never scored usably as a fallback (the 0.5 stand-in), so it does not pass for a score', async () => {
    await server.close();
    server = await startTestLlmServer({ responder: () => ({ text: 'I would rather not grade this.' }) });
    const scorer = createQualityScorer('chat-judge', { baseUrls: server.baseUrl, model: 'test-model', timeoutMs: 1000, maxAttempts: 2 });
    const [s] = await scoreQuality(scorer, [{ prompt: 'p', response: '<answer>text</answer>', answer: 'text' }]);
    expect(s).toMatchObject({ score: 0.5, fallback: true });
    expect(s.raw).toBeUndefined();
    expect(s.reason).toMatch(/^no usable reply/);
  });
});
