// Builds the cuda backend (libs/kernels/build-cuda: lwz_cuda.node and liblwz_cuda.so; not under build/,
// which node-gyp wipes when it rebuilds the cpu addon) with nvcc through libs/kernels/cuda/build.sh. Run by
// the cached Nx target `kernels:build-cuda` (its inputs include `nvcc --version`). Where nvcc is absent it
// succeeds doing nothing but leave build-cuda/SKIPPED saying so, and the backend then reports itself
// unavailable with that reason. LWZ_CUDA_ARCHS picks the GPU architectures:
// "80" (default, CI: sm_80 code + PTX that newer GPUs compile at load) or "80,90" (the GPU check's full set).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'libs/kernels/build-cuda');

function findNvcc() {
  const candidates = [process.env.NVCC, 'nvcc', join(process.env.CUDA_HOME ?? '/usr/local/cuda', 'bin/nvcc')];
  for (const c of candidates) {
    if (c && spawnSync(c, ['--version'], { encoding: 'utf8' }).status === 0) return c;
  }
  return null;
}

/** The directory holding node_api.h for the running Node (no download), as tools/build-native.mjs finds it. */
function nodeInclude() {
  const candidates = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..'), '/usr', '/usr/local'];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, 'include/node/node_api.h'))) return join(dir, 'include/node');
  }
  console.error(`build-cuda: Node's C headers (include/node/node_api.h) were not found next to ${process.execPath} or in /usr`);
  process.exit(1);
}

mkdirSync(out, { recursive: true });
const nvcc = findNvcc();
if (!nvcc) {
  rmSync(join(out, 'lwz_cuda.node'), { force: true });
  writeFileSync(join(out, 'SKIPPED'), 'nvcc was not found when `nx run kernels:build-cuda` ran (set NVCC or put nvcc on PATH)\n');
  console.log('build-cuda: nvcc not found; skipped (the cuda backend will report itself unavailable)');
  process.exit(0);
}
rmSync(join(out, 'SKIPPED'), { force: true });

// Two builds of one checkout would overwrite each other's objects: hold a lock file (stale after 15 minutes).
const lock = join(tmpdir(), `lwz-build-cuda-${createHash('sha1').update(out).digest('hex').slice(0, 12)}.lock`);
for (let waited = 0; ; waited += 1) {
  try {
    closeSync(openSync(lock, 'wx'));
    break;
  } catch {
    if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 900_000) rmSync(lock, { force: true });
    else if (waited % 30 === 0) console.log('build-cuda: another build of this checkout is running; waiting');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}
const version = spawnSync(nvcc, ['--version'], { encoding: 'utf8' }).stdout.trim().split('\n').pop();
const archs = process.env.LWZ_CUDA_ARCHS || '80';
console.log(`build-cuda: ${version}; archs ${archs}`);
const result = spawnSync('bash', [join(root, 'libs/kernels/cuda/build.sh'), out], {
  stdio: 'inherit',
  env: {
    ...process.env,
    NVCC: nvcc,
    LWZ_CUDA_ARCHS: archs,
    LWZ_CUDA_WERROR: '1',
    NODE_INCLUDE: nodeInclude(),
    LWZ_CUDA_JOBS: process.env.LWZ_CUDA_JOBS ?? String(Math.max(1, cpus().length)),
  },
});
rmSync(lock, { force: true });
if (result.status !== 0) {
  console.error(`build-cuda: nvcc build failed (exit ${result.status}); the compiler output is above.`);
  process.exit(1);
}
