// GRPO with --rollout-url: the answers come from an OpenAI-compatible server (our `serve` over the start
// checkpoint), old log-probs are recomputed locally, and after each update the policy is written to
// <out>/policy and rollout.syncCommand runs with LWZ_POLICY_DIR / LWZ_STEP. Not a test of a real vLLM reload.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRollout, startServer } from '@lwz/rollout';
import { listCheckpoints } from '@lwz/training';
import { parseConfig } from '@lwz/core';
import { grpoConfigSchema } from './config';
import { runGrpo } from './run';
import { grpoTestConfig } from './testing';

describe('GRPO with a remote rollout', () => {
  it('trains on server answers and hands each updated policy over', async () => {
    const base = mkdtempSync(join(tmpdir(), 'lwz-grpo-remote-'));
    const quiet = { log: () => undefined, progress: false };
    const start = join(base, 'start');
    await runGrpo(parse(start, { steps: 1, checkpointEvery: 1 }), quiet);
    const init = listCheckpoints(start)[0].dir;
    const server = await startServer(LocalRollout.fromCheckpoint(init), { port: 0, modelName: 'policy' });
    try {
      const out = join(base, 'remote');
      const syncLog = join(base, 'sync.log');
      process.env.LWZ_TEST_SYNC_LOG = syncLog;
      const cfg = parse(out, {
        steps: 2,
        model: { init },
        rollout: {
          n: 3,
          temperature: 1,
          maxNewTokens: 12,
          url: [server.url],
          model: 'policy',
          syncCommand: `node -e "require('fs').appendFileSync(process.env.LWZ_TEST_SYNC_LOG, process.env.LWZ_STEP + ' ' + process.env.LWZ_POLICY_DIR + '\\n')"`,
        },
        recomputeOldLogprobs: false,
      });
      const lines: string[] = [];
      const r = await runGrpo(cfg, { ...quiet, log: (line) => lines.push(line) });
      expect(r.steps).toBe(2);
      expect(lines.filter((l) => l.startsWith('warning'))).toEqual([]);
      const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, number>);
      expect(rows.map((x) => x.step)).toEqual([1, 2]);
      expect(rows[0]['train/rows']).toBeGreaterThan(0);
      // step 1: the server holds the start weights, which are the policy before the first update
      expect(rows[0]['rollout/logprob_abs_diff']).toBeLessThan(1e-5);
      // step 2: the test's sync command does not reload the server, so its answers come from the stale policy
      expect(rows[1]['rollout/logprob_abs_diff']).toBeGreaterThan(2e-5);
      expect(readFileSync(syncLog, 'utf8').trim().split('\n')).toEqual([`1 ${join(out, 'policy')}`, `2 ${join(out, 'policy')}`]);
      expect(existsSync(join(out, 'policy', 'model.safetensors'))).toBe(true);
      expect(server.stats().requests).toBeGreaterThanOrEqual(2);
      // without a sync command every step after the first samples the start policy: said before the run starts
      const unsynced: string[] = [];
      const { rollout } = cfg;
      await runGrpo(
        { ...cfg, out: join(base, 'unsynced'), steps: 1, rollout: { ...rollout, syncCommand: undefined } },
        {
          ...quiet,
          log: (line) => unsynced.push(line),
        },
      );
      expect(unsynced[0]).toMatch(
        /^warning: rollout\.url without rollout\.syncCommand: .*every answer comes from the start policy.*Set rollout\.syncCommand to a command that makes them load .*unsynced\/policy/,
      );
    } finally {
      delete process.env.LWZ_TEST_SYNC_LOG;
      await server.close();
    }
  }, 60000);

  it('refuses a rollout URL holding a password before making the run directory, and does not echo it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lwz-grpo-remote-')), 'run');
    const cfg = parse(out, { rollout: { n: 3, maxNewTokens: 12, url: ['http://user:sk-pass1234@127.0.0.1:9/v1'] } });
    const err = await runGrpo(cfg, { log: () => undefined, progress: false }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/invalid config from rollout\.url:\n.*baseUrls\.0: a base URL cannot hold user:password@/);
    expect((err as Error).message).not.toContain('sk-pass1234');
    expect(existsSync(out)).toBe(false); // no config.json keeping the password
  });
});

function parse(out: string, over: Record<string, unknown>) {
  return parseConfig(grpoConfigSchema, grpoTestConfig(out, { evaluation: { prompts: 0 }, ...over }), 'remote test config');
}
