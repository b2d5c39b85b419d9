// Crash injection for the kill -9 tests: `LWZ_FAILPOINT=<name>@<step>` makes the process SIGKILL itself at
// that point of that step, so a test can stop a real CLI exactly between two writes. Points: `metrics`
// (right after the step's metrics line is appended) and `checkpoint` (model and optimizer written, the
// trainer state not yet). Never set in normal runs; unset, this is one env lookup.

export type FailpointName = 'metrics' | 'checkpoint';

export function failpoint(name: FailpointName, step: number): void {
  const spec = process.env.LWZ_FAILPOINT;
  if (spec && spec === `${name}@${step}`) process.kill(process.pid, 'SIGKILL');
}
