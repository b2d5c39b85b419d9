// The tune command's arguments (tune-args.ts): `--rounds N` and `--rounds=N` both set the rounds, and anything
// else is refused with the valid arguments, both in the parser and through the command itself (exit 2, no timing).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TUNE_ROUNDS, parseTuneArgs } from './tune-args';

describe('kernels:tune arguments', () => {
  it('reads --rounds N and --rounds=N, default 7', () => {
    expect(parseTuneArgs([])).toEqual({ help: false, rounds: DEFAULT_TUNE_ROUNDS });
    expect(parseTuneArgs(['--rounds', '3'])).toEqual({ help: false, rounds: 3 });
    expect(parseTuneArgs(['--rounds=1'])).toEqual({ help: false, rounds: 1 });
    expect(parseTuneArgs(['--help'])).toEqual({ help: true });
  });

  it('refuses unknown arguments, naming them and the valid ones', () => {
    for (const arg of ['--foo', '--round=2', 'rounds', '-r']) {
      const parsed = parseTuneArgs([arg]);
      expect(parsed).toEqual({ error: expect.stringContaining(`unknown argument '${arg}'`) });
      expect(parsed).toEqual({ error: expect.stringContaining('--rounds N (or --rounds=N), --help') });
    }
  });

  it('refuses a missing or out-of-range --rounds value in either form', () => {
    for (const argv of [['--rounds'], ['--rounds='], ['--rounds=0'], ['--rounds', '1.5'], ['--rounds=abc'], ['--rounds=101']])
      expect(parseTuneArgs(argv)).toEqual({ error: expect.stringMatching(/^--rounds must be an integer from 1 to 100, got '/) });
  });

  it('the command exits 2 with the message, and no stack trace, before timing anything', () => {
    const cli = join(dirname(fileURLToPath(import.meta.url)), 'tune-cli.ts');
    const cache = mkdtempSync(join(tmpdir(), 'lwz-tune-args-')); // were the arguments ignored, it would cache here
    const env = { ...process.env, LWZ_CACHE_DIR: cache };
    const run = spawnSync(process.execPath, ['--import', 'tsx', cli, '--rounds=1', '--foo'], { encoding: 'utf8', env });
    rmSync(cache, { recursive: true, force: true });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain("kernels:tune: unknown argument '--foo'; valid arguments: --rounds N (or --rounds=N), --help");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
