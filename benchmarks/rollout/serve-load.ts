// Load test of `lwz-train serve` (issue #10): starts the server as a child process on the `tiny` benchmark
// checkpoint (or --checkpoint DIR), sends --requests (2000) requests from --clients (64) concurrent clients
// mixing good completions/chats (JSON and SSE) with oversized, malformed and invalid bodies
// (@lwz/rollout's runLoadTest), samples the server's resident memory (VmRSS) every 100 requests, and prints
// the result; --json FILE keeps it. Exit code 1 when a good request was not answered or a bad one not
// rejected with its 4xx. Run: npx tsx benchmarks/rollout/serve-load.ts [--clients N] [--requests N]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeJsonAtomic } from '@lwz/core';
import { runLoadTest } from '@lwz/rollout';
import { benchCheckpoint } from './models';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '64' },
    requests: { type: 'string', default: '2000' },
    checkpoint: { type: 'string' },
    json: { type: 'string' },
  },
});
const clients = Number(values.clients);
const requests = Number(values.requests);
const MAX_BODY_KB = 64;
const MAX_TOKENS = 256;

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

const checkpoint = values.checkpoint ?? benchCheckpoint('tiny').dir;
const bin = fileURLToPath(new URL('../../apps/trainer/bin/lwz-train.js', import.meta.url));
const child = spawn(
  process.execPath,
  [
    bin,
    'serve',
    '--checkpoint',
    checkpoint,
    '--port',
    '0',
    '--model-name',
    'load',
    '--max-body-kb',
    String(MAX_BODY_KB),
    '--max-tokens',
    String(MAX_TOKENS),
  ],
  { stdio: ['ignore', 'inherit', 'pipe'] },
);
const url = await new Promise<string>((resolve, reject) => {
  let text = '';
  child.stderr.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    const m = /serving \S+ at (\S+)/.exec(text);
    if (m) resolve(m[1]);
  });
  child.once('exit', (code) => reject(new Error(`serve exited (${code}) before it was ready:\n${text}`)));
});
const pid = child.pid as number;
const memory: [number, number][] = [[0, rssMb(pid)]];
try {
  const t0 = performance.now();
  const result = await runLoadTest({
    url,
    model: 'load',
    clients,
    requests,
    maxBodyBytes: MAX_BODY_KB * 1024,
    maxTokens: MAX_TOKENS,
    seed: 1,
    sampleEvery: 100,
    sample: (done) => memory.push([done, rssMb(pid)]),
  });
  const warm = memory.find(([done]) => done >= requests / 4) ?? memory[0];
  const summary = {
    ...result,
    clients,
    wallSeconds: (performance.now() - t0) / 1000,
    rssMb: { start: memory[0][1], afterQuarter: warm[1], max: Math.max(...memory.map(([, m]) => m)), end: memory[memory.length - 1][1] },
    rssSamples: memory,
  };
  console.log(JSON.stringify({ ...summary, rssSamples: undefined }, null, 2));
  if (values.json) writeJsonAtomic(values.json, summary);
  if (result.goodAnswered !== result.good || result.badRejected !== result.bad) process.exitCode = 1;
} finally {
  child.kill('SIGTERM');
}
