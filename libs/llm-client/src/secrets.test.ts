// The API key never leaves the Authorization header: not in error messages (even when a server echoes it
// back), not in error fields, not in cache files, not in the config's errors.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from '@lwz/core';
import { LlmClient } from './client';
import { parseLlmClientConfig } from './config';
import { errorOf, startTestLlmServer, type TestLlmServer } from './testing';

const KEY = 'sk-lwz-test-9f8e7d6c5b4a3210';
const WRONG = 'sk-lwz-wrong-0123456789abcd';
const servers: TestLlmServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A client config reading its key from LWZ_TEST_KEY, quick to time out and retry; `over` replaces fields. */
const keyed = (baseUrls: string, over: Record<string, unknown> = {}) => ({
  baseUrls,
  model: 'test-model',
  apiKeyEnv: 'LWZ_TEST_KEY',
  timeoutMs: 1000,
  backoffBaseMs: 2,
  maxRetries: 1,
  ...over,
});

/** Everything an error carries that could end up in a log. */
function everythingIn(e: Error): string {
  return [String(e), e.message, e.stack, JSON.stringify(e), JSON.stringify(Object.entries(e))].join('\n');
}

describe('the API key', () => {
  it('is sent as a bearer token and never shows in errors, even when the server echoes it', async () => {
    const s = await startTestLlmServer({ apiKey: KEY });
    servers.push(s);
    const config = keyed(s.baseUrl);
    const good = new LlmClient(config, { env: { LWZ_TEST_KEY: KEY } });
    await good.completions({ prompt: 'p' });
    expect(s.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);

    const wrong = new LlmClient(config, { env: { LWZ_TEST_KEY: WRONG } });
    const e = await errorOf(wrong.completions({ prompt: 'p' }));
    expect(s.calls).toBe(2); // 401 is not retried
    expect(e.message).toMatch(/HTTP 401 \(check the key in the environment variable LWZ_TEST_KEY\)/);
    expect(e.message).toContain('Incorrect API key provided: Bearer [REDACTED]');
    expect(everythingIn(e)).not.toContain(WRONG);
    // no key configured: the hint names the command-line flag as well as the config field
    const { apiKeyEnv: _k, ...keyless } = config;
    const none = await errorOf(new LlmClient(keyless, { env: {} }).completions({ prompt: 'p' }));
    expect(none.message).toMatch(
      /HTTP 401 \(the server wants a key: name the environment variable that holds it \(apiKeyEnv in a config; a judge on the command line: --judge-key-env\)\)/,
    );
  });

  it('is cut out of a successful reply that echoes it, before the reply is cached or returned (JSON and streamed)', async () => {
    const s = await startTestLlmServer({ apiKey: KEY, responder: (r) => `you sent ${String(r.headers.authorization)}` });
    servers.push(s);
    const cacheDir = mkdtempSync(join(tmpdir(), 'lwz-llm-echo-'));
    const client = new LlmClient(keyed(s.baseUrl, { cacheDir }), { env: { LWZ_TEST_KEY: KEY } });
    const reply = await client.chat({ messages: [{ role: 'user', content: 'hello' }] });
    expect(JSON.stringify(reply)).not.toContain(KEY);
    expect(JSON.stringify(reply)).toContain('you sent Bearer [REDACTED]');
    const files = readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name), 'utf8')).not.toContain(KEY);
    let streamed = '';
    for await (const d of client.streamChat({ messages: [{ role: 'user', content: 'hello' }] })) streamed += JSON.stringify(d);
    expect(streamed).not.toContain(KEY);
    expect(streamed).toContain('[REDACTED]');
  });

  it('is cut out of a reply and an error whose JSON writes "/" as "\\/" (as PHP\'s json_encode does), for a key holding slashes', async () => {
    const key = 'sk-lwz/b64+key/9f8e7d6c5b4a';
    // a careless server: echoes the header in its reply (200) or its error (500), escaping every slash
    const server = createServer((req, res) => {
      let sent = '';
      req.on('data', (d: Buffer) => (sent += d.toString()));
      req.on('end', () => {
        const echoed = `you sent ${String(req.headers.authorization)}`;
        const ok = !sent.includes('please fail');
        const body = ok
          ? {
              id: 'c',
              object: 'chat.completion',
              created: 0,
              model: 'test-model',
              choices: [{ index: 0, message: { role: 'assistant', content: echoed }, finish_reason: 'stop' }],
            }
          : { error: { message: echoed, type: 'server_error' } };
        res.writeHead(ok ? 200 : 500, { 'content-type': 'application/json' }).end(JSON.stringify(body).replace(/\//g, '\\/'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const baseUrls = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const cacheDir = mkdtempSync(join(tmpdir(), 'lwz-llm-slash-'));
      const settings = keyed(baseUrls, { maxRetries: 0 });
      const client = new LlmClient({ ...settings, cacheDir }, { env: { LWZ_TEST_KEY: key } });
      const reply = await client.chat({ messages: [{ role: 'user', content: 'hello' }] });
      expect(reply.choices[0].content).toBe('you sent Bearer [REDACTED]');
      for (const f of readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((x) => x.isFile())) {
        const text = readFileSync(join(f.parentPath, f.name), 'utf8');
        expect([text.includes(key), text.includes(key.replace(/\//g, '\\/'))]).toEqual([false, false]);
      }
      const e = await errorOf(client.chat({ messages: [{ role: 'user', content: 'please fail' }] }));
      expect(e.message).toMatch(/HTTP 500/);
      expect(everythingIn(e)).not.toContain('b64+key');
    } finally {
      server.close();
    }
  });

  it('is cut out when its variable holds it with a trailing newline or spaces (fetch sends it trimmed)', async () => {
    const s = await startTestLlmServer({ apiKey: KEY, responder: (r) => `you sent ${String(r.headers.authorization)}` });
    servers.push(s);
    const cacheDir = mkdtempSync(join(tmpdir(), 'lwz-llm-padded-'));
    const config = keyed(s.baseUrl);
    const client = new LlmClient({ ...config, cacheDir }, { env: { LWZ_TEST_KEY: `${KEY}\n` } });
    const reply = await client.chat({ messages: [{ role: 'user', content: 'hello' }] });
    expect(JSON.stringify(reply)).toContain('you sent Bearer [REDACTED]');
    const files = readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name), 'utf8')).not.toContain(KEY);
    // a wrong key the 401 body echoes
    const e = await errorOf(new LlmClient(config, { env: { LWZ_TEST_KEY: ` ${WRONG} \n` } }).completions({ prompt: 'p' }));
    expect(e.message).toContain('Incorrect API key provided: Bearer [REDACTED]');
    expect(everythingIn(e)).not.toContain(WRONG);
  });

  it('stays out of retry-exhausted errors, invalid-reply errors and cache files', async () => {
    const s = await startTestLlmServer({
      apiKey: KEY,
      faults: { rate: 0.3, seed: 2, kinds: ['http500', 'http429', 'malformed', 'drop'] },
      responder: (r) => `echo ${r.prompt}`,
    });
    servers.push(s);
    const cacheDir = mkdtempSync(join(tmpdir(), 'lwz-llm-secret-'));
    const client = new LlmClient(keyed(s.baseUrl, { cacheDir, maxRetries: 10 }), { env: { LWZ_TEST_KEY: KEY } });
    await Promise.all(Array.from({ length: 10 }, (_, i) => client.chat({ messages: [{ role: 'user', content: `q${i}` }] })));
    const files = readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files).toHaveLength(10);
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name), 'utf8')).not.toContain(KEY);

    // a reply that contains the key (a model repeating its prompt) is redacted from the invalid-reply error
    const invalid = await errorOf(
      client.askUntilValid({ messages: [{ role: 'user', content: `say ${KEY}` }] }, () => ({ ok: false, reason: 'no' }), {
        maxAttempts: 2,
      }),
    );
    expect(invalid.message).toMatch(/no valid reply in 2 attempts/);
    expect(everythingIn(invalid)).not.toContain(KEY);

    const failing = await startTestLlmServer({ apiKey: KEY, faults: () => 'http503' });
    servers.push(failing);
    const doomed = new LlmClient(
      { baseUrls: failing.baseUrl, model: 'test-model', apiKeyEnv: 'LWZ_TEST_KEY', backoffBaseMs: 1, maxRetries: 2 },
      { env: { LWZ_TEST_KEY: KEY } },
    );
    const e = await errorOf(doomed.chat({ messages: [{ role: 'user', content: 'x' }] }));
    expect(e.message).toMatch(/failed after 3 attempts/);
    expect(everythingIn(e)).not.toContain(KEY);
  });

  it('leaves no part of itself in a stream error whose quoted event is cut short (the cut fell inside the echoed key)', async () => {
    const { createServer } = await import('node:http');
    const chunk = { id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content: 'hi' } }] };
    // each event echoes the header so that the key starts 10 characters before the message's cut (300, 300 and 200)
    const events = (auth: string): string[][] => [
      [JSON.stringify({ error: { message: `${'x'.repeat(290 - 'Bearer '.length)}${auth}` } })],
      [JSON.stringify(chunk), JSON.stringify({ error: { message: `${'x'.repeat(290 - 'Bearer '.length)}${auth}` } })],
      [JSON.stringify(chunk), `not json ${'y'.repeat(190 - 'not json Bearer '.length)}${auth}`],
    ];
    let plan = 0;
    const s = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of events(String(req.headers.authorization))[plan]) res.write(`data: ${e}\n\n`);
      res.end();
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const baseUrl = `http://127.0.0.1:${(s.address() as { port: number }).port}/v1`;
    const client = new LlmClient(
      { baseUrls: baseUrl, model: 'm', apiKeyEnv: 'LWZ_TEST_KEY', maxRetries: 0 },
      { env: { LWZ_TEST_KEY: KEY } },
    );
    const messages: string[] = [];
    for (plan = 0; plan < 3; plan++) {
      const e = await errorOf(
        (async () => {
          for await (const d of client.streamChat({ messages: [{ role: 'user', content: 'x' }] })) void d;
        })(),
      );
      messages.push(e.message);
      expect(everythingIn(e)).not.toContain(KEY.slice(0, 10));
    }
    expect(messages[0]).toMatch(/the stream's first event is an error/);
    expect(messages[1]).toMatch(/the server ended the stream with an error/);
    expect(messages[2]).toMatch(/a stream event is not a valid chunk/);
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  });

  it('is never accepted as the config value, and the refusal does not repeat it', () => {
    const e = (() => {
      try {
        parseLlmClientConfig({ baseUrls: 'http://127.0.0.1:1/v1', model: 'm', apiKeyEnv: KEY });
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected a config error');
    })();
    expect(everythingIn(e)).not.toContain(KEY);
    expect(z.string().safeParse(KEY).success).toBe(true); // (the key is a plain string: only the refine catches it)
  });
});
