// The crash test from issue #5: the real CLI is killed with SIGKILL mid-run, rerun with the same command,
// and must finish with exactly the weights of an uninterrupted run.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJsonl } from '@lwz/core';
import { pretrainFixture, smallConfig } from './testing';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const bin = join(root, 'node_modules', '.bin', 'lwz-train');

function runCli(configFile: string, killWhen?: () => boolean): Promise<number | null> {
  return new Promise((done, fail) => {
    const child = spawn(bin, ['pretrain', '--config', configFile], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    const timer = killWhen
      ? setInterval(() => {
          if (killWhen()) child.kill('SIGKILL');
        }, 20)
      : null;
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      if (code !== 0 && signal !== 'SIGKILL') fail(new Error(`lwz-train exited ${code}: ${err}`));
      else done(code);
    });
  });
}

describe('pretrain CLI under kill -9', () => {
  it("resumes after SIGKILL and ends with the uninterrupted run's weights", async () => {
    const f = pretrainFixture();
    const base = mkdtempSync(join(tmpdir(), 'lwz-kill-'));
    // many short steps after the kill point, so the 20 ms poll always lands mid-run, wherever that is
    const over = { steps: 40, evalEvery: 10, checkpointEvery: 4, keepLast: 20 };
    const write = (name: string) => {
      const file = join(base, `${name}.json`);
      writeFileSync(file, JSON.stringify(smallConfig(f, join(base, name), over)));
      return file;
    };
    const straight = write('straight');
    const killed = write('killed');
    expect(await runCli(straight)).toBe(0);
    const ckpt = (step: number) => join(base, 'killed', 'checkpoints', `step-${step}`, 'trainer_state.json');
    expect(await runCli(killed, () => existsSync(ckpt(4)))).toBeNull(); // killed by the signal
    expect(existsSync(ckpt(40))).toBe(false);
    appendFileSync(join(base, 'killed', 'metrics.jsonl'), '{"step": 41, "train/lo'); // a torn last line
    expect(await runCli(killed)).toBe(0);
    const weights = (name: string) => readFileSync(join(base, name, 'checkpoints', 'step-40', 'model.safetensors'));
    expect(weights('killed').equals(weights('straight'))).toBe(true);
    const steps = readJsonl<{ step: number }>(join(base, 'killed', 'metrics.jsonl')).map((r) => r.value.step);
    expect(steps).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  }, 120000);
});
