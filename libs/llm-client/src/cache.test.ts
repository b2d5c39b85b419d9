// The disk cache against the real test server: a rerun makes no call, identical requests in flight share
// one call, entries are on disk before the caller has the value, and a process killed right after a call
// loses nothing.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheKey, canonicalJson, ResponseCache } from './cache';
import { LlmClient } from './client';
import { startTestLlmServer, type TestLlmServer } from './testing';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const servers: TestLlmServer[] = [];
async function server(...args: Parameters<typeof startTestLlmServer>): Promise<TestLlmServer> {
  const s = await startTestLlmServer(...args);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const tmp = () => mkdtempSync(join(tmpdir(), 'lwz-llm-cache-'));
// 1 s timeouts: a fresh connection on a busy machine can take 100+ ms, and these tests count calls exactly
const clientFor = (s: TestLlmServer, cacheDir: string, id = 'judge-a') =>
  new LlmClient({
    baseUrls: s.baseUrl,
    model: 'test-model',
    id,
    cacheDir,
    timeoutMs: 1000,
    backoffBaseMs: 2,
    backoffMaxMs: 20,
    maxRetries: 8,
  });
const requests = Array.from({ length: 12 }, (_, i) => ({ messages: [{ role: 'user' as const, content: `judge this ${i}` }], seed: i }));

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('response cache', () => {
  it('a rerun (new client, same directory) makes zero calls and returns the same answers', async () => {
    const s = await server({ faults: { rate: 0.3, seed: 4, kinds: ['http500', 'http429', 'drop', 'malformed', 'wrong-shape'] } });
    const dir = tmp();
    const first = await Promise.all(requests.map((r) => clientFor(s, dir).chat(r)));
    const callsAfterFirst = s.calls;
    expect(s.answered).toBeGreaterThanOrEqual(12);
    const again = clientFor(s, dir);
    const second = await Promise.all(requests.map((r) => again.chat(r)));
    expect(s.calls).toBe(callsAfterFirst);
    expect(second.map((r) => r.choices)).toEqual(first.map((r) => r.choices));
    expect(second.every((r) => r.cached)).toBe(true);
    expect(again.stats()).toMatchObject({ requests: 12, calls: 0, attempts: 0, cache: { hits: 12, misses: 0 } });
    expect(files(dir).filter((f) => f.endsWith('.json'))).toHaveLength(12);
    expect(files(dir).every((f) => f.endsWith('.json'))).toBe(true); // no temp files left
  });

  it('keys on client id, endpoint, attempt and the exact body, not on key order', async () => {
    const base = { id: 'a', endpoint: '/chat/completions', body: { model: 'm', messages: [{ role: 'user', content: 'x' }], seed: 1 } };
    const k = cacheKey(base);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey({ ...base, body: { seed: 1, messages: [{ content: 'x', role: 'user' }], model: 'm' } })).toBe(k);
    expect(cacheKey({ ...base, id: 'b' })).not.toBe(k);
    expect(cacheKey({ ...base, endpoint: '/completions' })).not.toBe(k);
    expect(cacheKey({ ...base, attempt: 1 })).not.toBe(k);
    expect(cacheKey({ ...base, body: { ...base.body, model: 'm2' } })).not.toBe(k);
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');

    const s = await server();
    const dir = tmp();
    await clientFor(s, dir, 'judge-a').chat(requests[0]);
    await clientFor(s, dir, 'judge-b').chat(requests[0]);
    expect(s.calls).toBe(2);
  });

  it('identical requests in flight make one call', async () => {
    const s = await server({ latencyMs: 30 });
    const client = clientFor(s, tmp());
    const results = await Promise.all(Array.from({ length: 5 }, () => client.chat(requests[0])));
    expect(s.calls).toBe(1);
    expect(new Set(results.map((r) => r.choices[0].content)).size).toBe(1);
    expect(client.stats().cache).toMatchObject({ misses: 1, joined: 4, writes: 1 });
  });

  it('a caller that aborts leaves the shared call; the others keep it, and it stops only when every caller has left', async () => {
    // the answers take 600 ms (the client times out at 1 s), so a 30-50 ms abort lands in flight even when a loaded
    // machine runs timers late (at 300 ms a CI run beside a training job saw the 30 ms abort fire after the answer)
    const s = await server({ latencyMs: 600 });
    const client = clientFor(s, tmp());
    const first = new AbortController();
    const a = client.chat(requests[1], { signal: first.signal });
    const b = client.chat(requests[1]); // joins the first's call, with no signal of its own
    setTimeout(() => first.abort(), 50);
    await expect(a).rejects.toMatchObject({ kind: 'aborted' });
    expect((await b).choices[0].content).not.toBe(''); // before: b failed with the first caller's abort
    expect(s.calls).toBe(1);
    // a joiner's own abort is its own: it leaves at once, while the first caller still gets the answer
    const c = client.chat(requests[2]);
    const late = new AbortController();
    const d = client.chat(requests[2], { signal: late.signal });
    const t0 = Date.now();
    setTimeout(() => late.abort(), 30);
    await expect(d).rejects.toMatchObject({ kind: 'aborted' });
    expect(Date.now() - t0).toBeLessThan(450); // well before the 600 ms answer
    expect((await c).choices[0].content).not.toBe('');
    // everyone gone: the call itself is aborted, and a rerun makes a new one
    const gone = new AbortController();
    const e = client.chat(requests[3], { signal: gone.signal });
    setTimeout(() => gone.abort(), 30);
    await expect(e).rejects.toMatchObject({ kind: 'aborted' });
    // counted by the client, not the server: an aborted request may still reach the server late on a loaded machine
    const before = { ...(client.stats().cache as { misses: number; joined: number; hits: number }) };
    expect((await client.chat(requests[3])).choices[0].content).not.toBe('');
    expect(client.stats().cache).toMatchObject({ misses: before.misses + 1, joined: before.joined, hits: before.hits });
  });

  it('the entry is on disk before the caller gets the value', async () => {
    const s = await server();
    const dir = tmp();
    const cache = new ResponseCache(dir);
    const client = clientFor(s, dir);
    const path = cache.pathOf(
      cacheKey({ id: 'judge-a', endpoint: '/chat/completions', body: { model: 'test-model', messages: requests[0].messages, seed: 0 } }),
    );
    const seenOnDisk = await client.chat(requests[0]).then(() => existsSync(path));
    expect(seenOnDisk).toBe(true);
  });

  it('an unreadable entry is fetched again and rewritten', async () => {
    const s = await server();
    const dir = tmp();
    await clientFor(s, dir).chat(requests[0]);
    const [entry] = files(dir);
    writeFileSync(entry, '{"key": "trunc');
    const client = clientFor(s, dir);
    await client.chat(requests[0]);
    expect(s.calls).toBe(2);
    expect(client.stats().cache).toMatchObject({ corrupt: 1, writes: 1 });
    await clientFor(s, dir).chat(requests[0]);
    expect(s.calls).toBe(2);
  });

  it("an entry holding another request's key, or a reply that no longer fits the schema, is fetched again; files fan out by key", async () => {
    const s = await server();
    const dir = tmp();
    await clientFor(s, dir).chat(requests[0]);
    const [a] = files(dir); // request 0's file, whatever its key sorts as
    await clientFor(s, dir).chat(requests[1]);
    const b = files(dir).find((f) => f !== a) as string;
    const entryA = JSON.parse(readFileSync(a, 'utf8'));
    expect(a).toBe(join(dir, entryA.key.slice(0, 2), `${entryA.key}.json`)); // <dir>/<first two hex digits>/<key>.json
    writeFileSync(b, JSON.stringify(entryA)); // a valid entry, but of request 0: request 1 must not get its answer
    const client = clientFor(s, dir);
    expect((await client.chat(requests[1])).cached).toBe(false);
    writeFileSync(a, JSON.stringify({ ...entryA, response: { object: 'chat.completion', choices: 'gone' } })); // right key, wrong shape
    expect((await client.chat(requests[0])).cached).toBe(false);
    expect(s.calls).toBe(4);
    expect(client.stats().cache).toMatchObject({ corrupt: 2, hits: 0, writes: 2 });
  });

  it('models() and a call with cache: false always go to the server', async () => {
    const s = await server();
    const client = clientFor(s, tmp());
    await client.models();
    await client.models();
    await client.chat(requests[0], { cache: false });
    await client.chat(requests[0], { cache: false });
    expect(s.calls).toBe(4);
    expect(client.stats().cache).toMatchObject({ hits: 0, misses: 0, writes: 0 });
  });

  it('a process killed (SIGKILL) right after its call returns loses nothing: the rerun makes no call', async () => {
    const s = await server();
    const dir = tmp();
    const script = join(dir, 'crash.mts');
    writeFileSync(
      script,
      [
        `import { LlmClient } from ${JSON.stringify(join(root, 'libs/llm-client/src/index.ts'))};`,
        `const client = new LlmClient({ baseUrls: '${s.baseUrl}', model: 'test-model', id: 'judge-a', cacheDir: ${JSON.stringify(join(dir, 'cache'))} });`,
        `const result = await client.chat(${JSON.stringify(requests[3])});`,
        "process.kill(process.pid, 'SIGKILL'); // before the result is used",
        'console.log(result);',
      ].join('\n'),
    );
    const signal = await new Promise<string | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += String(d)));
      child.on('error', reject);
      child.on('exit', (code, sig) => (sig ? resolve(sig) : reject(new Error(`child exited ${code}: ${err}`))));
    });
    expect(signal).toBe('SIGKILL');
    expect(s.calls).toBe(1);
    const rerun = clientFor(s, join(dir, 'cache'));
    const result = await rerun.chat(requests[3]);
    expect(result.cached).toBe(true);
    expect(s.calls).toBe(1);
  });
});
