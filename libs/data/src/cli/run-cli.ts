// Helpers for the data CLIs (Nx targets run them with tsx). The shared ending of a CLI is core's runCli,
// re-exported here so the entry points keep one import.
export { runCli } from '@lwz/core';

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
