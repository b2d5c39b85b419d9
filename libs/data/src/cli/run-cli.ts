// Shared ending for the data CLIs (Nx targets run them with tsx): a UserError prints its message only,
// anything else its stack; either way the exit code is 1. Not process.exit: pending writes finish first.
import { isUserError } from '@lwz/core';

export async function runCli(main: () => Promise<void> | void): Promise<void> {
  try {
    await main();
  } catch (e) {
    console.error(isUserError(e) ? `error: ${e.message}` : e);
    process.exitCode = 1;
  }
}

/** Parse a number option with a message naming the flag. */
export function numberOption(flag: string, integer = false): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      throw new Error(`${flag} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
}
