// `lwz-bench smoke [--dir D] [--timeout-s N]`: CI's benchmark check. Every suite runs once in smoke mode
// (`lwz-bench run --suite S --smoke`, one process each, once per declared baseline), so a suite that breaks,
// or whose own correctness check throws, fails the command. A baseline whose system library is missing is
// skipped with a note and our side still runs. Not for timing: smoke numbers are single iterations.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UserError, parseConfig, pathFlag, z } from '@lwz/core';
import { defaultBenchmarksRoot, listSuites, loadSuite } from '../discover';

const OptionsSchema = z.object({
  dir: pathFlag().optional(),
  timeoutS: z.coerce.number().positive().default(300),
});
export type SmokeOptions = z.input<typeof OptionsSchema>;

export interface SmokeCall {
  suite: string;
  baseline: string | null;
  ok: boolean;
  seconds: number;
  records: number;
  skipped: number;
  /** the run's notes (e.g. a baseline skipped for a missing library) */
  notes: string[];
  /** why it failed: the last lines the run printed */
  error?: string;
}

/** The error a failed run printed: from its first error line (not the whole stack), else its last lines. */
function errorLines(stderr: string): string {
  const lines = stderr.trim().split('\n');
  const first = lines.findIndex((l) => /\b\w*Error\b|^error:/.test(l));
  return (first >= 0 ? lines.slice(first, first + 3) : lines.slice(-8)).join('\n');
}

const BIN = fileURLToPath(new URL('../../bin/lwz-bench.js', import.meta.url));

function runOnce(dir: string, suite: string, baseline: string | null, timeoutS: number): Promise<SmokeCall> {
  const out = mkdtempSync(join(tmpdir(), 'lwz-smoke-'));
  const json = join(out, 'records.json');
  const args = [BIN, 'run', '--suite', suite, '--smoke', '--dir', dir, '--json', json, ...(baseline ? ['--baseline', baseline] : [])];
  const t0 = performance.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      const call: SmokeCall = { suite, baseline, ok: false, seconds, records: 0, skipped: 0, notes: [] };
      call.notes = stdout.split('\n').filter((l) => l.startsWith('- baseline'));
      call.skipped = stdout.split('\n').filter((l) => l.includes('SKIPPED')).length;
      try {
        if (code !== 0) throw new Error(signal ? `killed by ${signal} after ${seconds.toFixed(0)} s` : `exit ${code}`);
        call.records = (JSON.parse(readFileSync(json, 'utf8')) as unknown[]).length;
        if (call.records === 0) throw new Error('no records: every case was skipped');
        call.ok = true;
      } catch (e) {
        call.error = `${(e as Error).message}\n${errorLines(stderr)}`;
      }
      rmSync(out, { recursive: true, force: true });
      done(call);
    });
  });
}

/** Every suite under the benchmarks folder, each baseline once, one after another. */
export async function run(raw: SmokeOptions, log: (line: string) => void = (l) => console.error(l)): Promise<SmokeCall[]> {
  const o = parseConfig(OptionsSchema, raw, 'lwz-bench smoke options', { flags: true });
  const dir = o.dir ?? defaultBenchmarksRoot();
  const calls: SmokeCall[] = [];
  for (const s of listSuites(dir)) {
    let baselines: string[];
    try {
      baselines = Object.keys((await loadSuite(dir, s.suite)).baselines ?? {});
    } catch (e) {
      calls.push({ suite: s.suite, baseline: null, ok: false, seconds: 0, records: 0, skipped: 0, notes: [], error: (e as Error).message });
      log(`smoke ${s.suite}: FAILED to load`);
      continue;
    }
    for (const baseline of baselines.length ? baselines : [null]) {
      const call = await runOnce(dir, s.suite, baseline, o.timeoutS);
      log(`smoke ${s.suite}${baseline ? ` --baseline ${baseline}` : ''}: ${call.ok ? 'ok' : 'FAILED'} in ${call.seconds.toFixed(1)} s`);
      calls.push(call);
    }
  }
  return calls;
}

export function summary(calls: readonly SmokeCall[]): string {
  const rows = calls.map(
    (c) =>
      `| ${c.suite} | ${c.baseline ?? ''} | ${c.ok ? 'ok' : 'FAILED'} | ${c.seconds.toFixed(1)} | ${c.records} | ${c.skipped} | ` +
      `${[...c.notes, c.error ?? ''].join(' ').replace(/\s+/g, ' ').replace(/\|/g, '/').trim()} |`,
  );
  return (
    ['| suite | baseline | result | seconds | records | skipped | notes |', '|---|---|---|---|---|---|---|', ...rows].join('\n') + '\n'
  );
}

export function registerSmoke(program: Command): void {
  program
    .command('smoke')
    .description('run every suite once in smoke mode, each in its own process (CI); exits 1 when any fails')
    .option('--dir <folder>', 'benchmarks folder (default: the repository benchmarks/)')
    .option('--timeout-s <seconds>', 'kill a suite run after this long', '300')
    .action(async (opts: SmokeOptions) => {
      const calls = await run(opts);
      process.stdout.write(summary(calls));
      const failed = calls.filter((c) => !c.ok);
      if (failed.length) {
        for (const f of failed) console.error(`\n${f.suite}${f.baseline ? ` --baseline ${f.baseline}` : ''} failed: ${f.error}`);
        throw new UserError(`benchmark smoke failed: ${failed.map((f) => f.suite).join(', ')}`);
      }
    });
}
