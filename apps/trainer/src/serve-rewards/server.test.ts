import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import '@lwz/judges'; // registers the "chat-judge" quality scorer
import { parseRewardsConfig, scoreRewards } from '@lwz/rewards';
import { repoRoot } from '../cli-testing';
import { fakeJudgeResponder } from '@lwz/judges/testing';
import { startTestLlmServer } from '@lwz/llm-client/testing';
import { run } from '../commands/serve-rewards';
import { combinedScore, startRewardServer, type RunningRewardServer } from './server';

const config = parseRewardsConfig({ combination: { weights: { length: 2, format: 1, quality: 1 } } });
const para = 'The harbour was quiet and the ships lay still under a grey sky. ';
const items = [
  { prompt: 'Write a 30-word note about the harbour.', response: `<think>plan</think><answer>${para.repeat(2)}</answer>` },
  { prompt: 'Write a 30-word note about the harbour.', response: `<answer>${para}</answer>` },
  { prompt: 'Write about the sea.', response: `<think>x</think><answer>${para.repeat(8)}</answer>`, length_range: [50, 60] },
  { prompt: 'Write about the sea in at least 200 words.', response: 'no tags at all' },
  { prompt: 'Write a 20-word note.', response: `<think>a</think><answer>${'same words here again. '.repeat(30)}</answer>` },
];

describe('serve-rewards', () => {
  let server: RunningRewardServer;
  beforeAll(async () => {
    server = await startRewardServer(config, { port: 0, maxBodyBytes: 4096, maxItems: 8, batchWindowMs: 10 });
  });
  afterAll(() => server.close());
  const post = (body: string) =>
    fetch(`${server.url}/v1/rewards`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  it('returns exactly what @lwz/rewards computes, each reward and the combined score', async () => {
    const expected = await scoreRewards(items, config);
    const res = await post(JSON.stringify({ items }));
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: ((typeof expected.rows)[number] & { score: number })[] };
    results.forEach((r, i) => {
      const { score, ...rest } = r;
      expect(rest).toEqual(JSON.parse(JSON.stringify(expected.rows[i])));
      expect(score).toBeCloseTo(combinedScore(expected.rows[i], config), 12);
      expect(score).toBeCloseTo((2 * r.rewards.length + r.rewards.format + r.rewards.quality) / 4, 12);
    });
    const one = (await (await post(JSON.stringify(items[2]))).json()) as { rewards: unknown };
    expect(one.rewards).toEqual(expected.rows[2].rewards);
    // a LongBench-Write row's required length sets the target when the wording states none
    const withLength = { prompt: 'Write about the harbour.', response: items[0].response, length: 40 };
    const scored = (await (await post(JSON.stringify(withLength))).json()) as { target_range: unknown; target_source: string };
    expect([scored.target_range, scored.target_source]).toEqual([[36, 44], 'length']);
  });

  it('answers a burst of concurrent requests, micro-batched, each with its own items', async () => {
    const before = server.stats.batches;
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, k) => post(JSON.stringify(items[k % items.length])).then((r) => r.json())),
    );
    const expected = await scoreRewards(items, config);
    burst.forEach((r, k) => expect((r as { rewards: unknown }).rewards).toEqual(expected.rows[k % items.length].rewards));
    expect(server.stats.batches - before).toBeLessThan(40);
    const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string; items: number };
    expect(health.status).toBe('ok');
  });

  it('rejects malformed items with 4xx naming the field', async () => {
    const cases: [string, number, RegExp][] = [
      ['{bad json', 400, /not JSON/],
      [JSON.stringify({ items: [] }), 400, /items: must be a non-empty array/],
      [JSON.stringify({ items: [{ prompt: 'p' }] }), 400, /items\[0\]\.response: must be a string/],
      [JSON.stringify({ prompt: 1, response: 'r' }), 400, /body\.prompt: must be a string/],
      [JSON.stringify({ prompt: 'p', response: 'r', length_range: [5, 2] }), 400, /length_range/],
      [JSON.stringify({ prompt: 'p', response: 'r', length: 'long' }), 400, /body\.length: must be a positive number of words/],
      // a misspelt field would be dropped silently (the target left to the predictor): named instead
      [
        JSON.stringify({ prompt: 'p', response: 'r', lenght_range: [1, 2] }),
        400,
        /^body\.lenght_range: no such field; an item has prompt, response, length_range, length/,
      ],
      [JSON.stringify({ items: [{ prompt: 'p', response: 'r', lengthRange: [1, 2] }] }), 400, /^items\[0\]\.lengthRange: no such field/],
      [JSON.stringify({ items: Array(9).fill(items[0]) }), 413, /at most 8/],
      [
        JSON.stringify({ prompt: 'x'.repeat(5000), response: '' }),
        413,
        /request body of 50\d\d bytes exceeds the 4096-byte limit: send fewer items per request, or start serve-rewards with a larger --max-body-mb$/,
      ],
    ];
    for (const [body, status, message] of cases) {
      const res = await post(body);
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
    // a sample line's other fields are no typos: scored
    const line = { ...items[0], id: 'a-1', answer: 'x', answer_words: 1, finish_reason: 'stop', type: 'letter', token_ids: [1] };
    expect((await post(JSON.stringify(line))).status).toBe(200);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    // a chunked body (no content-length) over the limit: a 413 too, not a reset connection
    const chunked = await new Promise<{ status: number; body: string }>((done, fail) => {
      const req = request(`${server.url}/v1/rewards`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', fail);
      req.write('{"prompt": "a", "response": "');
      for (let i = 0; i < 16; i++) req.write('x'.repeat(1024));
      req.end('"}');
    });
    expect(chunked.status).toBe(413);
    expect(chunked.body).toMatch(/exceeds the 4096-byte limit/);
  });

  it('refuses a body that is not UTF-8 by the offset of its bad byte, instead of scoring U+FFFD in its place', async () => {
    const latin1 = Buffer.from(`{"prompt": "Write 20 words.", "response": "<answer>caf\xe9</answer>"}`, 'latin1');
    const res = await fetch(`${server.url}/v1/rewards`, { method: 'POST', body: latin1 });
    expect(res.status).toBe(400);
    const { message } = ((await res.json()) as { error: { message: string } }).error;
    expect(message).toBe(`request body is not UTF-8 text (bad byte 0xe9 at offset ${latin1.indexOf(0xe9)}): send JSON encoded as UTF-8`);
    // Chinese in UTF-8 is scored as sent
    const zh = { prompt: '写一篇关于大海的文章，约200字。', response: '<think>计划</think><answer>大海很大。大海很蓝。</answer>' };
    const scored = (await (await post(JSON.stringify(zh))).json()) as { rewards: unknown };
    expect(scored.rewards).toEqual((await scoreRewards([zh], config)).rows[0].rewards);
  });

  it('routes a probe with a ?query, and tells a client that sent a bare list to wrap it in {"items": [...]}', async () => {
    expect((await fetch(`${server.url}/health?probe=1`)).status).toBe(200);
    expect((await fetch(`${server.url}/v1/rewards?trace=1`, { method: 'POST', body: JSON.stringify(items[0]) })).status).toBe(200);
    const res = await post(JSON.stringify([items[0]]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'body: expected an object with "prompt" and "response", got an array; several items go in {"items": [...]}',
    );
  });
});

describe('serve-rewards with a failing judge', () => {
  const judgedBy = (port: number, extra: Record<string, unknown> = {}) =>
    parseRewardsConfig({
      quality: { scorer: 'chat-judge', options: { baseUrls: `http://127.0.0.1:${port}/v1`, model: 'm', maxRetries: 0, ...extra } },
    });
  const postTo = (url: string, item: unknown) =>
    fetch(`${url}/v1/rewards`, { method: 'POST', body: JSON.stringify(item) }).then(async (r) => [r.status, await r.text()] as const);
  const health = async (url: string) => (await (await fetch(`${url}/health`)).json()) as Record<string, unknown>;

  it("answers 500 with the judge's message, marked not retryable for a refused key, once per batch on its console, never with the key", async () => {
    const key = 'sk-test/with+slash/123';
    let refuse = true;
    const judge = await startTestLlmServer({
      responder: (req) =>
        refuse
          ? // a judge that echoes what it was sent, as some do on a 401
            { status: 401, body: { error: { message: `bad key ${req.headers.authorization}` } } }
          : fakeJudgeResponder({ badFirstShare: 0 })(req),
      models: ['m'],
    });
    process.env.LWZ_TEST_JUDGE_KEY = `${key}\n`;
    const lines: string[] = [];
    const failing = await startRewardServer(judgedBy(judge.port, { apiKeyEnv: 'LWZ_TEST_JUDGE_KEY' }), {
      port: 0,
      batchWindowMs: 50,
      log: (line) => lines.push(line),
    });
    try {
      expect((await health(failing.url)).status).toBe('ok');
      const replies = await Promise.all([items[0], items[1]].map((item) => postTo(failing.url, item)));
      for (const [status, text] of replies) {
        expect(status).toBe(500);
        expect(text).toMatch(/HTTP 401 \(check the key in the environment variable LWZ_TEST_JUDGE_KEY\)/);
        const { error } = JSON.parse(text) as { error: { message: string; retryable: boolean } };
        expect(error.retryable).toBe(false); // a client's retry would meet the same 401
        expect(error.message).toContain('retrying will not help: mend the quality scorer');
      }
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^serve-rewards: scoring 2 item\(s\) failed, answered 500 \(not retryable\): .*HTTP 401/);
      // /health is up and says the last batch failed, and why
      const sick = await health(failing.url);
      expect([sick.status, sick.retryable]).toEqual(['failing', false]);
      expect(sick.last_error).toMatch(/HTTP 401/);
      for (const text of [...lines, ...replies.map(([, t]) => t), JSON.stringify(sick)]) expect(text).not.toContain('sk-test');
      // the judge mended: the next batch scores and /health is ok again
      refuse = false;
      const [status] = await postTo(failing.url, items[0]);
      expect([status, (await health(failing.url)).status]).toEqual([200, 'ok']);
    } finally {
      delete process.env.LWZ_TEST_JUDGE_KEY;
      await failing.close();
      await judge.close();
    }
  });

  it('marks an llm length predictor refused by its server (401) as not retryable too', async () => {
    const judge = await startTestLlmServer({ apiKey: 'the-right-key', models: ['m'] }); // no key sent: 401
    const config = parseRewardsConfig({
      length: { predictor: { name: 'llm', options: { baseUrls: `http://127.0.0.1:${judge.port}/v1`, model: 'm', maxRetries: 0 } } },
    });
    const failing = await startRewardServer(config, { port: 0, log: () => undefined });
    try {
      // no length in the wording or the item: the predictor is asked
      const [status, text] = await postTo(failing.url, { prompt: 'Write about the sea.', response: '<answer>x</answer>' });
      const { error } = JSON.parse(text) as { error: { message: string; retryable: boolean } };
      expect([status, error.retryable]).toEqual([500, false]);
      expect(error.message).toMatch(/HTTP 401.*retrying will not help/);
    } finally {
      await failing.close();
      await judge.close();
    }
  });

  it('marks a judge that is down (5xx, retries spent) as retryable: a client may try again later', async () => {
    const judge = await startTestLlmServer({ faults: () => 'http503', models: ['m'] });
    const failing = await startRewardServer(judgedBy(judge.port), { port: 0, log: () => undefined });
    try {
      const [status, text] = await postTo(failing.url, items[0]);
      const { error } = JSON.parse(text) as { error: { message: string; retryable: boolean } };
      expect([status, error.retryable]).toEqual([500, true]);
      expect(error.message).toMatch(/HTTP 503/);
      expect(error.message).not.toContain('retrying will not help');
    } finally {
      await failing.close();
      await judge.close();
    }
  });

  it('scores an item asked again while it is being scored once: a client that timed out and retried does not pay the judge twice', async () => {
    const judge = await startTestLlmServer({ responder: fakeJudgeResponder({ badFirstShare: 0 }), models: ['m'], latencyMs: 400 });
    const server = await startRewardServer(judgedBy(judge.port), { port: 0, batchWindowMs: 5, log: () => undefined });
    try {
      const first = postTo(server.url, items[0]);
      await new Promise((done) => setTimeout(done, 150)); // the first batch is at the judge by now
      const [again, other] = await Promise.all([postTo(server.url, items[0]), postTo(server.url, items[2])]);
      const [a, b] = [await first, again].map(([status, text]) => [status, JSON.parse(text) as { score: number }] as const);
      expect([a[0], b[0], other[0]]).toEqual([200, 200, 200]);
      expect(b[1]).toEqual(a[1]);
      // every judge request distinct: items[0] was judged once, items[2] once
      const asked = judge.requests.map((r) => JSON.stringify(r.body.messages));
      expect(new Set(asked).size).toBe(asked.length);
      expect(asked.filter((m) => m.includes('note about the harbour')).length).toBe(asked.length / 2);
    } finally {
      await server.close();
      await judge.close();
    }
  });
});

describe('lwz-train serve-rewards (the CLI)', () => {
  it('says at start what it scores with (a forgotten --config shows as a constant quality), serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(join(repoRoot, 'node_modules', '.bin', 'lwz-train'), ['serve-rewards', '--port', '0'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    try {
      const url = await new Promise<string>((done, fail) => {
        child.stderr.on('data', (d) => {
          stderr += String(d);
          const m = /POST (http:\S+)\/v1\/rewards/.exec(stderr);
          if (m) done(m[1]);
        });
        child.on('exit', () => fail(new Error(`exited before serving: ${stderr}`)));
      });
      const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
      expect(stderr).toContain(
        'serve-rewards: rewards from defaults (no --config): template think, format gate off, quality scorer constant (every answer 0.5: quality gives no signal), weights length 1 format 1 quality 1',
      );
      expect(((await (await fetch(`${url}/health`)).json()) as { status: string }).status).toBe('ok');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL'); // a failed check must not leave the service running (and jest waiting)
    }
  }, 60000);

  it('names --port and its range when the port is not one', async () => {
    await expect(run({ port: '1.5' })).rejects.toThrow('--port: must be a whole number');
    await expect(run({ port: '99999' })).rejects.toThrow('--port: must be 0 to 65535 (0: any free port)');
  });
});
