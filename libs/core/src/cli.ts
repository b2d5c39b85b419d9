// The shared ending of every CLI entry point: a UserError prints its message only, anything else its stack,
// and either way the exit code is 1. Sets process.exitCode rather than calling process.exit, so pending
// writes (stdout, atomic files) finish first.
import { isUserError } from './errors';

export async function runCli(main: () => Promise<unknown> | unknown): Promise<void> {
  try {
    await main();
  } catch (e) {
    console.error(isUserError(e) ? `error: ${e.message}` : e);
    process.exitCode = 1;
  }
}
