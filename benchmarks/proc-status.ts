// Linux /proc/self memory readings shared by the memory-measuring child processes of the benchmark suites.
// Not portable: callers fall back to process.resourceUsage() where these return null/false.
import { readFileSync, writeFileSync } from 'node:fs';

/** A `kB` field of /proc/self/status (VmRSS, VmHWM, ...), or null off Linux. */
export function statusKb(field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Reset the peak-RSS mark VmHWM (write "5" to /proc/self/clear_refs); false when that is not possible. */
export function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return statusKb('VmHWM') !== null;
  } catch {
    return false;
  }
}
