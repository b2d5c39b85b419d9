// The kernel settings read from the environment, through the real CLI: an invalid LWZ_DEVICE or LWZ_HOST_POOL_MB
// is one `error:` line naming the variable, its accepted values and how to go back to the default, exit code 1,
// no stack trace, and nothing written (an invalid LWZ_THREADS is a warning and the default, in the native addon).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lwz-env-errors-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function init(env: Record<string, string>) {
  const out = join(tmp, Object.keys(env).join('-'));
  const bin = join(root, 'node_modules', '.bin', 'lwz-train');
  const r = spawnSync(bin, ['init', '--preset', 'tiny', '--out', out], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  return { ...r, wrote: existsSync(out) };
}

describe('kernel settings from the environment', () => {
  it.each([
    [{ LWZ_DEVICE: 'gpu' }, 'LWZ_DEVICE=gpu is not a device: set it to one of ref, cpu, cuda, or unset it (then cpu when the native'],
    [{ LWZ_HOST_POOL_MB: 'lots' }, 'LWZ_HOST_POOL_MB=lots is not a whole number of MiB >= 0: set it to the MiB of freed host buffers'],
  ])('%j is a user error naming the variable and its accepted values', (env, message) => {
    const r = init(env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error: ${message}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.wrote).toBe(false);
  });
});
