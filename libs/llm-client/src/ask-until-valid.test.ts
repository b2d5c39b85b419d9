// Validated answers against the real test server: re-asks on malformed JSON or a missing verdict, the
// attempts recorded, a rerun with the cache replaying every attempt without a call.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from '@lwz/core';
import { InvalidReplyError, askUntilValid, type Validator } from './ask-until-valid';
import { LlmClient } from './client';
import { startTestLlmServer, type TestLlmServer } from './testing';
import { jsonReply } from './validators';

const servers: TestLlmServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A judge that answers badly twice per prompt, then well: malformed JSON, then no score, then a score. */
async function flakyJudge(): Promise<TestLlmServer> {
  const seen = new Map<string, number>();
  const s = await startTestLlmServer({
    responder: (r) => {
      const k = (seen.get(r.prompt) ?? 0) + 1;
      seen.set(r.prompt, k);
      return ['Score: {"score": 7, "reason": "cut', 'I would rate it {"reason": "fine"}', 'Fine work. {"score": 7, "reason": "clear"}'][
        Math.min(k, 3) - 1
      ];
    },
  });
  servers.push(s);
  return s;
}

const scoreReply = jsonReply(z.object({ score: z.number().int().min(1).max(10), reason: z.string() }));
const verdict: Validator<string> = (reply) => {
  const labels = reply.match(/\[\[(A>>B|A>B|A=B|B>A|B>>A)\]\]/g);
  return labels ? { ok: true, value: labels[labels.length - 1] } : { ok: false, reason: 'no verdict label' };
};

describe('askUntilValid', () => {
  it("reads a reasoning judge's answer after </think>, and refuses replies cut off at the token limit", async () => {
    // each prompt gets these replies in turn; every one of the first three holds a label that is not the verdict
    const replies = [
      { text: '<think>I lean [[A>>B]] but let me weigh it again. Option two [[B>A]]', finishReason: 'length' },
      { text: '<think>Maybe [[A>>B]]. Or not' },
      { text: 'Hmm, [[A>B]] at first sight.\n</think>\n\nI cannot decide.' },
      { text: '<think>draft: [[A>>B]]</think>\nAfter weighing both, my verdict is [[B>A]].' },
    ];
    let k = 0;
    const s = await startTestLlmServer({ responder: () => replies[Math.min(k++, replies.length - 1)] });
    servers.push(s);
    const client = new LlmClient({ baseUrls: s.baseUrl, model: 'test-model', timeoutMs: 1000 });
    const res = await client.askUntilValid({ messages: [{ role: 'user', content: 'A or B?' }] }, verdict, { maxAttempts: 4 });
    expect(res.value).toBe('[[B>A]]');
    expect(res.attempts.map((a) => a.reason)).toEqual([
      expect.stringMatching(/cut off at its token limit \(finish_reason "length"\)/),
      expect.stringMatching(/<think> block that never closes/),
      'no verdict label',
      undefined,
    ]);
    // the recorded reply is the whole reply, think block included
    expect(res.reply).toBe(replies[3].text);
  });

  it('re-asks until the reply validates and records every attempt', async () => {
    const s = await flakyJudge();
    const client = new LlmClient({ baseUrls: s.baseUrl, model: 'test-model', timeoutMs: 1000 });
    const res = await client.askUntilValid({ messages: [{ role: 'user', content: 'rate this' }], temperature: 0 }, scoreReply, {
      maxAttempts: 3,
    });
    expect(res.value).toEqual({ score: 7, reason: 'clear' });
    expect(res.attempts.map((a) => [a.attempt, a.ok, a.cached])).toEqual([
      [0, false, false],
      [1, false, false],
      [2, true, false],
    ]);
    expect(res.attempts[0].reason).toBe('the reply holds no JSON object');
    expect(res.attempts[1].reason).toMatch(/^the JSON does not fit: score:/);
    expect(s.calls).toBe(3);
  });

  it('replays the same attempts from the cache on a rerun, with no call', async () => {
    const s = await flakyJudge();
    const cacheDir = mkdtempSync(join(tmpdir(), 'lwz-llm-ask-'));
    const ask = () =>
      new LlmClient({ baseUrls: s.baseUrl, model: 'test-model', id: 'critic', cacheDir, timeoutMs: 1000 }).askUntilValid(
        { messages: [{ role: 'user', content: 'rate that' }], seed: 5 },
        scoreReply,
      );
    const first = await ask();
    const second = await ask();
    expect(s.calls).toBe(3);
    expect(second.value).toEqual(first.value);
    expect(second.attempts.map((a) => a.cached)).toEqual([true, true, true]);
    expect(s.requests.map((r) => r.body.seed)).toEqual([5, 6, 7]); // the default re-ask bumps a given seed
  });

  it('gives up after maxAttempts with every reply and reason', async () => {
    const s = await startTestLlmServer({ responder: () => 'Both are good.' });
    servers.push(s);
    const client = new LlmClient({ baseUrls: s.baseUrl, model: 'test-model', timeoutMs: 1000 });
    let error: unknown;
    try {
      await client.askUntilValid({ messages: [{ role: 'user', content: 'A or B?' }] }, verdict, { maxAttempts: 2 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidReplyError);
    const e = error as InvalidReplyError;
    expect(e.kind).toBe('invalid-reply');
    expect(e.asks).toEqual([
      { attempt: 0, reply: 'Both are good.', ok: false, reason: 'no verdict label', cached: false },
      { attempt: 1, reply: 'Both are good.', ok: false, reason: 'no verdict label', cached: false },
    ]);
    expect(e.message).toBe('chat: no valid reply in 2 attempts; last reason: no verdict label; last reply: "Both are good."');
  });

  it('lets the caller revise the request (e.g. a follow-up naming the problem), and counts a throwing validator as a rejection', async () => {
    const s = await startTestLlmServer({
      responder: (r) => ((r.body.messages as unknown[]).length > 1 ? 'Verdict: [[A>B]] then [[B>A]]' : 'hmm'),
    });
    servers.push(s);
    const client = new LlmClient({ baseUrls: s.baseUrl, model: 'test-model', timeoutMs: 1000 });
    const res = await client.askUntilValid(
      { messages: [{ role: 'user', content: 'A or B?' }] },
      (reply) => {
        if (reply === 'hmm') throw new Error('not parseable');
        return verdict(reply);
      },
      {
        revise: (req, rejected) => ({
          ...req,
          messages: [
            ...req.messages,
            { role: 'assistant', content: rejected.reply },
            { role: 'user', content: `(${rejected.reason}) End with a verdict label.` },
          ],
        }),
      },
    );
    expect(res.value).toBe('[[B>A]]');
    expect(res.attempts[0]).toMatchObject({ ok: false, reason: 'not parseable' });
    expect(s.requests[1].body.messages).toHaveLength(3);
  });

  it('called directly with a key, leaves no part of it in the message when the reply excerpt is cut inside the key', async () => {
    const key = 'sk-direct-0123456789abcdefghij';
    // the key starts at character 190 of the reply: an excerpt cut at 200 before redaction would keep 'sk-direct-'
    const reply = `${'x'.repeat(190)}${key} no verdict here`;
    const chat = async () => ({ choices: [{ index: 0, content: reply, finishReason: 'stop' }], cached: false });
    const err = await askUntilValid(chat, { messages: [{ role: 'user', content: 'A or B?' }] }, verdict, { maxAttempts: 1 }, [key]).then(
      () => null,
      (e: unknown) => e as InvalidReplyError,
    );
    expect(err).toBeInstanceOf(InvalidReplyError);
    expect(err?.message).toMatch(/no valid reply in 1 attempts; last reason: no verdict label; last reply: "x{190}\[REDACTED\]/);
    expect(err?.message).not.toContain('sk-direct');
    expect(err?.asks[0].reply).not.toContain('sk-direct');
  });
});
