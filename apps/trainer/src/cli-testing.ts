// Test helpers for the crash tests of the training commands (pretrain, train): run the real `lwz-train` CLI
// with an optional LWZ_FAILPOINT and collect its exit and stderr; read a run's metrics lines. Tests only.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(repoRoot, 'node_modules', '.bin', 'lwz-train');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** `lwz-train <command> --config FILE`, killed by itself at `failpoint` when given (libs/training failpoint.ts). */
export function runTrainingCli(command: 'pretrain' | 'train', configFile: string, failpoint?: string): Promise<CliRun> {
  return new Promise((done, fail) => {
    const env = { ...process.env, LWZ_FAILPOINT: failpoint ?? '' };
    const child = spawn(bin, [command, '--config', configFile], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', fail);
    child.on('exit', (code, signal) => done({ code, signal, stderr }));
  });
}

/** The non-empty lines of a run's metrics.jsonl, as written. */
export const metricLines = (run: string): string[] =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim());

export const stepOf = (line: string): number => (JSON.parse(line) as { step: number }).step;
