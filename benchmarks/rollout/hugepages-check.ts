// Whether a decoding model's memory sits on transparent huge pages (#10, #15), and what it costs in memory:
// loads a rollout benchmark model (default the ~100M Qwen2) with its packed decode weights, decodes `tokens`
// tokens at batch 1 (after one warm-up answer), and prints the decode rate, the process's AnonHugePages
// (/proc/self/smaps_rollup), its resident and peak memory, and whether the addon advised huge pages. Compare
// `LWZ_HUGEPAGES=0` against the default in alternating processes. Not a suite:
// `npx tsx benchmarks/rollout/hugepages-check.ts [model] [tokens]`.
import { readFileSync } from 'node:fs';
import { nativeCpuDetails } from '@lwz/kernels';
import { LocalRollout } from '@lwz/rollout';
import { statusKb } from '../proc-status';
import { benchCheckpoint } from './models';
import { oursDecode } from './timing';

const name = process.argv[2] ?? 'qwen2-100m';
const tokens = Number(process.argv[3] ?? 33);

function rollupKb(field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const info = nativeCpuDetails();
const rollout = LocalRollout.fromCheckpoint(benchCheckpoint(name).dir, { maxBatch: 1 });
await oursDecode(rollout, 1, 3, 32); // warm-up: packs the decode weights, grows the scratch
const r = await oursDecode(rollout, 1, tokens, 32);
const mb = (kb: number | null) => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MiB`);
console.log(
  `${name} decode B=1: ${r.rate.toFixed(1)} tokens/s; huge pages ${info?.hugePages ? 'on' : 'off'} (THP ${info?.thp ?? 'n/a'}); ` +
    `AnonHugePages ${mb(rollupKb('AnonHugePages'))}, Rss ${mb(rollupKb('Rss'))}, peak ${mb(statusKb('VmHWM'))}`,
);
await rollout.close();
