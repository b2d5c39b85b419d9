// The arguments of `npx nx run kernels:tune -- ...` (tune-cli.ts), parsed without side effects so that a test can
// check them: `--rounds N` or `--rounds=N` (1-100, default 7) and `--help`. Anything else is refused with the list
// of valid arguments, since a misspelt option that is silently ignored would leave the user timing the defaults.

export const DEFAULT_TUNE_ROUNDS = 7;

export const TUNE_USAGE = `usage: npx nx run kernels:tune [-- --rounds N]
  --rounds N, --rounds=N  timed rounds per candidate, an integer from 1 to 100 (default ${DEFAULT_TUNE_ROUNDS})
  --help                  this text`;

export type TuneArgs = { help: true } | { help: false; rounds: number };

/** Parses the tune command's arguments; returns a one-line error (with the valid arguments) for anything else. */
export function parseTuneArgs(argv: readonly string[]): TuneArgs | { error: string } {
  let rounds = DEFAULT_TUNE_ROUNDS;
  const valid = 'valid arguments: --rounds N (or --rounds=N), --help';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { help: true };
    let value: string | undefined;
    if (arg === '--rounds') value = argv[++i];
    else if (arg.startsWith('--rounds=')) value = arg.slice('--rounds='.length);
    else return { error: `unknown argument '${arg}'; ${valid}` };
    const v = Number(value);
    if (value === undefined || value.trim() === '' || !Number.isInteger(v) || v < 1 || v > 100)
      return { error: `--rounds must be an integer from 1 to 100, got '${value ?? ''}'` };
    rounds = v;
  }
  return { help: false, rounds };
}
