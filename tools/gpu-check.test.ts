// The GPU check's scripts (tools/gpu-check, issue #14) run on a borrowed GPU machine with minutes of device time
// per task, so what can be checked here is checked here: every shell script parses (bash -n), every Python file
// parses, and the benchmark's model code passes its CPU self-test against PyTorch autograd when this machine's
// python has torch (else that test says why it skipped). The CUDA kernels themselves: libs/kernels/cuda/lab.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('./gpu-check/', import.meta.url));
const scripts = readdirSync(dir).filter((f) => f.endsWith('.sh'));
const pythonFiles = readdirSync(dir).filter((f) => f.endsWith('.py'));
// the python that has Debian's python3-torch (a pyenv python3 on PATH may not), as benchmarks/model does it
const python = process.env.LWZ_TORCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const hasTorch = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

function run(cmd: string, args: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env } });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('tools/gpu-check', () => {
  it('has the scripts the README names', () => {
    expect(scripts).toEqual(expect.arrayContaining(['run.sh', 'pack-node.sh', 'cpu-check.sh', 'unpack-carry.sh', 'device.sh']));
    expect(pythonFiles).toEqual(expect.arrayContaining(['bench.py', 'lwz.py', 'qwen.py', 'selftest.py']));
  });

  it.each(scripts)('%s parses (bash -n)', (name) => {
    const r = run('bash', ['-n', join(dir, name)]);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(pythonFiles)('%s parses', (name) => {
    const r = run('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])', join(dir, name)]);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  // the device tool returns at most 8 files from $OUT: device.sh leaves two there, the archive and the summary
  it('device.sh with no steps still packs its logs into $OUT (logs.tgz, summary.txt) and reports each lane', () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-device-'));
    try {
      const r = run('bash', [join(dir, 'device.sh'), '--seconds', '30', '--gpu-steps', '', '--cpu-steps', ''], { OUT: out });
      expect(r.status).toBe(0);
      expect(readdirSync(out).sort()).toEqual(['logs.tgz', 'summary.txt']);
      expect(readFileSync(join(out, 'summary.txt'), 'utf8')).toMatch(/^device\.sh: gpu lane exit 0, cpu lane exit 0, \d+ s of 30/);
      const listing = run('tar', ['-tzf', join(out, 'logs.tgz')]);
      expect(listing.output).toContain('./summary.txt');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('cpu-check.sh --steps rowpass without two addon builds says what it needs and fails', () => {
    const out = mkdtempSync(join(tmpdir(), 'cpu-check-'));
    const builds = mkdtempSync(join(tmpdir(), 'cpu-check-builds-'));
    try {
      const r = run('bash', [join(dir, 'cpu-check.sh'), '--steps', 'rowpass'], { OUT: out, LWZ_CPU_CHECK_BUILDS: builds });
      expect(r.output).toContain(`rowpass: needs two or more addon builds in ${builds}/*.node`);
      expect(r.status).toBe(1);
      expect(existsSync(join(out, 'rowpass.txt'))).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(builds, { recursive: true, force: true });
    }
  });

  it('run.sh --prebuilt names the file a prebuilt archive lacks and fails before any check', () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-prebuilt-'));
    try {
      expect(run('tar', ['-C', out, '-cJf', join(out, 'empty.tar.xz'), '--files-from', '/dev/null']).status).toBe(0);
      const r = run('bash', [join(dir, 'run.sh'), '--prebuilt', join(out, 'empty.tar.xz'), '--steps', 'lab'], { OUT: join(out, 'logs') });
      expect(r.status).toBe(1);
      expect(r.output).toContain(`BUILD FAILED: --prebuilt ${join(out, 'empty.tar.xz')} has no liblwz_cuda.so`);
      expect(existsSync(join(out, 'logs', 'lab.txt'))).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  const title = `selftest.py: the benchmark's Qwen2 step equals PyTorch autograd on the CPU (${python}${hasTorch ? '' : ' cannot import torch'})`;
  (hasTorch ? it : it.skip)(
    title,
    () => {
      const r = run(python, [join(dir, 'selftest.py')]);
      expect(r.output).toContain('selftest passed');
      expect(r.status).toBe(0);
    },
    60_000,
  );
});
