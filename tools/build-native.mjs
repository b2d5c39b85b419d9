// Builds the cpu backend's Node-API addon (libs/kernels/build/Release/lwz_cpu.node) with node-gyp and the
// machine's g++, strictly offline: Node's own headers are used (never downloaded). Run by the cached Nx
// target `kernels:build-native`; fails loudly (non-zero exit, the compiler's output) when it cannot build.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const project = join(root, 'libs/kernels');

function fail(message) {
  console.error(`build-native: ${message}`);
  process.exit(1);
}

/** The directory whose include/node holds node_api.h for the running Node (no download). */
function nodeHeadersDir() {
  const candidates = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..'), '/usr', '/usr/local'];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, 'include/node/node_api.h'))) return dir;
  }
  return fail(
    `Node's C headers (include/node/node_api.h) were not found next to ${process.execPath} or in /usr; ` +
      'install the Node development headers (e.g. the nodejs-dev package) or set npm_config_nodedir.',
  );
}

const compiler = spawnSync(process.env.CXX ?? 'g++', ['-dumpfullversion'], { encoding: 'utf8' });
if (compiler.status !== 0) fail(`no C++ compiler: \`${process.env.CXX ?? 'g++'} -dumpfullversion\` failed; install g++.`);

const nodeGyp = join(dirname(fileURLToPath(import.meta.resolve('node-gyp/package.json'))), 'bin/node-gyp.js');
const nodedir = nodeHeadersDir();
const jobs = String(Math.max(1, cpus().length));
console.log(`build-native: g++ ${compiler.stdout.trim()}, node headers from ${nodedir}, ${jobs} jobs`);

// Two builds in one checkout would delete each other's objects: hold a lock file (stale after 10 minutes).
const lock = join(tmpdir(), `lwz-build-native-${createHash('sha1').update(project).digest('hex').slice(0, 12)}.lock`);
function acquireLock() {
  for (let waited = 0; ; waited += 1) {
    try {
      closeSync(openSync(lock, 'wx'));
      return;
    } catch {
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { force: true });
      else if (waited % 30 === 0) console.log('build-native: another build of this checkout is running; waiting');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }
  }
}
acquireLock();
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodedir}`, `--jobs=${jobs}`, '--release'], {
  cwd: project,
  stdio: 'inherit',
  env: { ...process.env, npm_config_nodedir: nodedir, npm_config_offline: 'true' },
});
rmSync(lock, { force: true });
if (result.status !== 0) fail(`node-gyp failed (exit ${result.status}); the compiler output is above.`);
const addon = join(project, 'build/Release/lwz_cpu.node');
if (!existsSync(addon)) fail(`node-gyp succeeded but ${addon} is missing.`);
console.log(`build-native: built ${addon}`);
