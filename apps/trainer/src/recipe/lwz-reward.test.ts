// lwz_reward.py, the verl recipe's reward function (run with the system python3): what it returns through a running
// serve-rewards, its retries (a service that is down or busy, a reply cut short) and where it stops at once (a 4xx, a
// judge that refuses serve-rewards' key), and its messages for bad input.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@lwz/judges'; // registers the "chat-judge" quality scorer
import { startTestLlmServer } from '@lwz/llm-client/testing';
import { parseRewardsConfig, scoreRewards } from '@lwz/rewards';
import { run } from '../commands/export-recipe';
import { startRewardServer } from '../serve-rewards/server';

const read = (f: string) => readFileSync(f, 'utf8');

// the recipe is exported once for the file: every test only reads it
let out: string;
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
  run({ engine: 'verl', preset: 'tiny', out, set: ['prompts.generator.train=2', 'prompts.generator.heldout=1'] });
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

/**
 * Python that imports the exported lwz_reward as `m` with its backoff sleeps skipped: the retries themselves are
 * what these tests check (the waits, 0.25 s to 3 s each, are the 5-minute test's, on paper).
 */
const importWithoutWaits = () =>
  `import json, sys, time\nsys.path.insert(0, ${JSON.stringify(out)})\ntime.sleep = lambda seconds: None\nimport lwz_reward as m\n`;

describe('lwz_reward.py', () => {
  it('lwz_reward.py (system python3) returns what @lwz/rewards computes, through a running serve-rewards', async () => {
    const config = parseRewardsConfig({});
    const server = await startRewardServer(config, { port: 0 });
    const para = 'The ships lay still in the grey harbour while the crew waited for the tide. ';
    const cases = [
      { prompt: 'Write a 40-word note about the harbour.', response: `<think>plan</think><answer>${para.repeat(3)}</answer>`, gt: 'auto' },
      { prompt: 'Write about the sea.', response: `<think>p</think><answer>${para}</answer>`, gt: '[50, 60]' },
      { prompt: 'Write about the sea.', response: 'no tags', gt: '[10, 20]' },
      { prompt: 'Write a 30-word note.', response: `<think>a</think><answer>${'same words again. '.repeat(40)}</answer>`, gt: 'auto' },
      // a LongBench-Write row: its required length travels in extra_info
      { prompt: 'Write about the harbour.', response: `<think>a</think><answer>${para.repeat(2)}</answer>`, gt: 'auto', length: 30 },
    ];
    try {
      const script = `
import asyncio, json, sys
sys.path.insert(0, ${JSON.stringify(out)})
from lwz_reward import compute_score
cases = json.loads(sys.argv[1])
async def main():
    return await asyncio.gather(*[compute_score("lwz-writing", c["response"], c["gt"], {"prompt": c["prompt"], "length": c.get("length")}, url=sys.argv[2]) for c in cases])
print(json.dumps(asyncio.run(main())))
`;
      // async: the server runs in this process, so a blocking child would starve it
      const { stdout } = await promisify(execFile)('python3', ['-c', script, JSON.stringify(cases), server.url], { timeout: 30000 });
      const got = JSON.parse(stdout) as Record<string, number>[];
      const expected = await scoreRewards(
        cases.map((c) => ({
          prompt: c.prompt,
          response: c.response,
          ...(c.gt !== 'auto' ? { length_range: JSON.parse(c.gt) as unknown } : {}),
          ...('length' in c ? { length: c.length } : {}),
        })),
        config,
      );
      got.forEach((g, i) => {
        const e = expected.rows[i].rewards;
        expect(g.length).toBeCloseTo(e.length, 12);
        expect(g.format).toBeCloseTo(e.format, 12);
        expect(g.quality).toBeCloseTo(e.quality, 12);
        expect(g.score).toBeCloseTo((e.length + e.format + e.quality) / 3, 12);
      });
      expect(new Set(got.map((g) => g.score)).size).toBeGreaterThan(1);
    } finally {
      await server.close();
    }
  });
  it("lwz_reward.py retries a service that answers 503 or is not up yet, and stops on a 4xx with the service's message", async () => {
    let calls = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        calls++;
        if (req.url === '/bad/v1/rewards') {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'length_range: expected [lo, hi] with 0 <= lo <= hi' } }));
        } else if (calls <= 2) {
          res.writeHead(503);
          res.end('busy');
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ score: 0.5, rewards: { length: 1, format: 0.5, quality: 0 } }));
        }
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = (base: string) =>
      promisify(execFile)(
        'python3',
        ['-c', `${importWithoutWaits()}print(json.dumps(m.score_sync("p", "r", "[1, 2]", sys.argv[1])))`, base],
        { timeout: 30000, env: { ...process.env, LWZ_REWARD_RETRIES: '3' } },
      );
    try {
      const ok = await call(url);
      expect(JSON.parse(ok.stdout)).toEqual({ score: 0.5, length: 1, format: 0.5, quality: 0 });
      expect(calls).toBe(3); // two 503s, then the answer
      await expect(call(`${url}/bad`)).rejects.toThrow(/RewardServiceError: .*HTTP 400: .*length_range: expected \[lo, hi\]/);
      expect(calls).toBe(4); // a 4xx is not retried
    } finally {
      await new Promise((done) => server.close(done));
    }
    // nothing listening: retried, then an error that says where it looked
    const closed = `http://127.0.0.1:${(server.address() as AddressInfo | null)?.port ?? 9}`;
    await expect(
      promisify(execFile)('python3', ['-c', `${importWithoutWaits()}m.score_sync("p", "r", None, sys.argv[1])`, closed], {
        timeout: 30000,
        env: { ...process.env, LWZ_REWARD_RETRIES: '1' },
      }),
    ).rejects.toThrow(/RewardServiceError: .* after 2 tries over \d+ s; is serve-rewards running there\?/);
  });

  it("lwz_reward.py stops at once when serve-rewards' judge refuses its key, instead of retrying for minutes", async () => {
    const judge = await startTestLlmServer({ apiKey: 'the-right-key', models: ['m'] }); // no key sent: 401
    const config = parseRewardsConfig({
      quality: { scorer: 'chat-judge', options: { baseUrls: judge.baseUrl, model: 'm', maxRetries: 0 } },
    });
    const server = await startRewardServer(config, { port: 0, log: () => undefined });
    const script = `import sys; sys.path.insert(0, ${JSON.stringify(out)}); import lwz_reward as m; m.score_sync("p", "<answer>r</answer>", "[1, 2]", sys.argv[1])`;
    try {
      await expect(
        promisify(execFile)('python3', ['-c', script, server.url], { timeout: 30000, env: { ...process.env, LWZ_REWARD_RETRIES: '3' } }),
      ).rejects.toThrow(/RewardServiceError: .*HTTP 500: .*HTTP 401.*retrying will not help/);
      expect(judge.calls).toBe(1); // asked once: not again for each of the 3 retries
    } finally {
      await server.close();
      await judge.close();
    }
  });

  it("lwz_reward.py's default retries wait out about 5 minutes of a service that is down, as its README says", async () => {
    expect(read(join(out, 'README.md'))).toMatch(/\(`LWZ_REWARD_RETRIES`, default 11, about\s+5 minutes\)/);
    // the backoff without its jitter (random() = 0.5 makes the factor 1), slept on paper against a port nobody holds
    const script = `
import json, random, sys, time
sys.path.insert(0, ${JSON.stringify(out)})
import lwz_reward as m
waits = []
time.sleep = waits.append
random.random = lambda: 0.5
try:
    m.score_sync("p", "r", None, "http://127.0.0.1:9")
except m.RewardServiceError as e:
    print(json.dumps({"retries": m.RETRIES, "waited": sum(waits), "error": str(e)}))
`;
    const env = { ...process.env };
    delete env.LWZ_REWARD_RETRIES;
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { timeout: 30000, env });
    const got = JSON.parse(stdout) as { retries: number; waited: number; error: string };
    expect(got.retries).toBe(11);
    expect(got.waited).toBeGreaterThanOrEqual(270);
    expect(got.waited).toBeLessThanOrEqual(330);
    expect(got.error).toMatch(/after 12 tries over \d+ s; is serve-rewards running there\?/);
  });

  it('lwz_reward.py names a bad ground_truth, URL or reply instead of a bare Python error, and retries a reply cut short', async () => {
    const bodies: unknown[] = [];
    let cut = 0;
    const ok = JSON.stringify({ score: 0.5, rewards: { length: 1, format: 0.5, quality: 0 } });
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        if (req.url === '/html/v1/rewards') return res.writeHead(200).end('<html>proxy login</html>');
        if (req.url === '/cut/v1/rewards' && cut++ === 0) {
          // a service stopped mid-answer: the reply ends before its content-length
          res.writeHead(200, { 'content-length': String(ok.length) });
          res.write(ok.slice(0, 8));
          return void setTimeout(() => res.destroy(), 20);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(ok);
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const script = `${importWithoutWaits()}
out = []
for gt, url in json.loads(sys.argv[1]):
    try:
        out.append(m.score_sync("p", "r", gt, url))
    except Exception as e:
        out.append(f"{type(e).__name__}: {e}")
print(json.dumps(out))
`;
    const cases: [unknown, string][] = [
      ['abc', url],
      ['[100]', url],
      ['[5, 2]', url],
      [[1.5, 3.5], url],
      ['auto', url.replace('http://', '')],
      ['[1, 2]', `${url}/html`],
      ['[1, 2]', `${url}/cut`],
    ];
    try {
      const { stdout } = await promisify(execFile)('python3', ['-c', script, JSON.stringify(cases)], {
        timeout: 30000,
        env: { ...process.env, LWZ_REWARD_RETRIES: '2' },
      });
      const got = JSON.parse(stdout) as unknown[];
      expect(got.slice(0, 3)).toEqual([
        `ValueError: ground_truth: expected "auto" or a word range "[lo, hi]" (two numbers), got 'abc'`,
        `ValueError: ground_truth: expected "auto" or a word range "[lo, hi]" (two numbers), got '[100]'`,
        `ValueError: ground_truth: the word range [lo, hi] must have 0 <= lo <= hi, got '[5, 2]'`,
      ]);
      // a fractional range is sent as it is, not cut to whole words
      expect(bodies[0]).toEqual({ prompt: 'p', response: 'r', length_range: [1.5, 3.5] });
      expect(got[4]).toMatch(/^RewardServiceError: the reward service URL \(url= or LWZ_REWARD_URL\) must be http:\/\/HOST:PORT/);
      expect(got[5]).toMatch(
        /^RewardServiceError: http:.*\/html\/v1\/rewards: the reply is not serve-rewards' \{score, rewards\}: b'<html>/,
      );
      expect(got[6]).toEqual({ score: 0.5, length: 1, format: 0.5, quality: 0 });
      expect(cut).toBe(2);
      expect(bodies).toHaveLength(4); // nothing sent for the bad ground_truths or the URL without http://
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
});
