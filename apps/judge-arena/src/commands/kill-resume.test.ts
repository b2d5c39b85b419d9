// The crash test: the real `lwz-arena arena` is SIGKILLed mid-run, rerun with the same command, and must
// make no judge call for a judgment already cached (counted on the test server: every rerun call adds a
// new cache entry, so calls == new entries), then produce exactly the results of an uninterrupted run.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestLlmServer } from '@lwz/llm-client/testing';
import { startFakeJudge, writeFixture } from '../test-fixtures';
import { run } from './arena';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const bin = join(root, 'node_modules', '.bin', 'lwz-arena');

function runCli(args: string[], killWhen?: () => boolean): Promise<number | null> {
  return new Promise((done, fail) => {
    const child = spawn(bin, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    const timer = killWhen
      ? setInterval(() => {
          if (killWhen()) child.kill('SIGKILL');
        }, 5)
      : null;
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      if (code !== 0 && signal !== 'SIGKILL') fail(new Error(`lwz-arena exited ${code}: ${err}`));
      else done(code);
    });
  });
}

const entries = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .flatMap((d) => readdirSync(join(dir, d)))
        .filter((f) => f.endsWith('.json')).length
    : 0;

let server: TestLlmServer;
afterEach(async () => server?.close());

describe('lwz-arena arena under kill -9', () => {
  it('resumes from the judgment cache without repeating a call, and ends with the clean results', async () => {
    const f = writeFixture({ prompts: 10 });
    server = await startFakeJudge({ latencyMs: 30 });
    const out = join(f.dir, 'killed');
    const args = ['arena', '--models', ...f.models, '--judge-url', server.baseUrl, '--judge-model', 'test-model'];
    const flags = ['--judge-concurrency', '2', '--judge-timeout-ms', '5000', '--quiet', '--out', out];
    expect(await runCli([...args, ...flags], () => server.answered >= 12)).toBeNull();
    expect(existsSync(join(out, 'results.json'))).toBe(false);
    const cacheDir = join(out, 'cache');
    const cachedAtKill = entries(cacheDir);
    expect(cachedAtKill).toBeGreaterThanOrEqual(10);
    const callsBefore = server.calls;
    expect(await runCli([...args, ...flags])).toBe(0);
    const rerunCalls = server.calls - callsBefore;
    const cachedAtEnd = entries(cacheDir);
    expect(rerunCalls).toBeGreaterThan(0);
    expect(rerunCalls).toBe(cachedAtEnd - cachedAtKill);
    // and a third run is all cache
    const callsThird = server.calls;
    expect(await runCli([...args, ...flags])).toBe(0);
    expect(server.calls).toBe(callsThird);

    const cleanOut = join(f.dir, 'clean');
    await run({ models: f.models, judgeUrl: server.baseUrl, judgeModel: 'test-model', out: cleanOut, quiet: true });
    const results = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as unknown;
    expect(results(out)).toEqual(results(cleanOut));
  }, 120000);
});
