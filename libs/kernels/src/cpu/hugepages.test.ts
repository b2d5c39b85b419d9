// Transparent huge pages for large host tensors (native/hugepages.cpp, backend.ts alignedHostArray; #10, #15):
// a cpu tensor whose pool class (host-pool.ts) is 2 MiB or more starts on a 2 MiB boundary and, once touched,
// its whole 2 MiB pages are huge pages (read back from /proc/self/smaps), also after the host pool recycled it,
// for a loader's newHostF32 arrays, and on heap memory malloc recycled (a child process); the addon's big scratch
// likewise; LWZ_HUGEPAGES=0 turns the advice off (a child process). Where the kernel gives no huge pages on
// request (THP `never`, not Linux) the page checks are skipped, saying why.
import { execFileSync } from 'node:child_process';
import { HUGE_PAGE_BYTES } from '../backend';
import { poolCapacity } from '../host-pool';
import { newHostF32, tensor, zeros } from '../index';
import { defaultAddonPath, loadAddon } from './native';

const load = loadAddon();
const MiB = 2 ** 20;

/**
 * In a fresh node with `env`: `count` buffers of `mib` + 2 MiB, each with `mib` MiB from a 2 MiB boundary marked
 * as alignedHostArray marks it, then its first `touchMib` MiB read (zeros required) and filled. With `churn`, 64
 * touched 1.5 MiB arrays (below glibc's mmap threshold: heap blocks) are dropped and collected first, so malloc's
 * heap holds free touched memory. The addon's hugePages flag and, per buffer, the bytes marked and its huge-page kB.
 */
function child(
  env: Record<string, string>,
  o: { mib: number; touchMib: number; count?: number; churn?: boolean },
): { hugePages: boolean; buffers: { advised: number; kb: number }[] } {
  const script = `
    const a = require(${JSON.stringify(defaultAddonPath)});
    if (${Boolean(o.churn)}) {
      let keep = [];
      for (let i = 0; i < 64; i++) keep.push(new Float32Array(${(3 * MiB) / 8}).fill(1));
      keep = null;
      global.gc();
    }
    const buffers = [];
    for (let i = 0; i < ${o.count ?? 1}; i++) {
      const buf = new ArrayBuffer(${(o.mib + 2) * MiB});
      const off = (${HUGE_PAGE_BYTES} - a.bufferMisalign(buf, ${HUGE_PAGE_BYTES})) % ${HUGE_PAGE_BYTES};
      const advised = a.adviseHugePages(buf, off, ${o.mib * MiB});
      const f = new Float32Array(buf, off, ${(o.touchMib * MiB) / 4});
      if (!f.every((v) => v === 0)) throw new Error('a fresh buffer read non-zero after the advice');
      f.fill(0.5);
      buffers.push({ advised, kb: a.hugePageKb(buf) });
    }
    console.log(JSON.stringify({ hugePages: a.info().hugePages, buffers }));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return JSON.parse(out.trim());
}

if (!('addon' in load)) {
  it.skip('huge pages: addon not built', () => undefined);
} else {
  const addon = load.addon;
  const { hugePages, thp } = addon.info();
  // the page checks need THP on request: `madvise` or `always` on Linux, and the advice not switched off
  const why =
    thp === 'none' || thp === undefined
      ? 'no transparent huge pages here (not Linux)'
      : thp === 'never'
        ? 'THP is `never` on this machine'
        : !hugePages
          ? 'LWZ_HUGEPAGES=0 in this environment'
          : '';
  const start2M = (a: Float32Array | Int32Array) =>
    (addon.bufferMisalign(a.buffer as ArrayBuffer, HUGE_PAGE_BYTES) + a.byteOffset) % HUGE_PAGE_BYTES;
  const hugeKb = (a: Float32Array | Int32Array) => addon.hugePageKb(a.buffer as ArrayBuffer);

  describe('large host tensors on huge pages', () => {
    it('starts tensors whose pool class holds 2 MiB or more on a 2 MiB boundary, smaller ones on a cache line, zero-filled', () => {
      // off a 2 MiB boundary by chance almost never; checked for several sizes so luck cannot pass it; 2 MiB less 64
      // bytes is in the 2 MiB class (host-pool.ts poolCapacity), so its buffer is laid out as a 2 MiB one
      for (const values of [HUGE_PAGE_BYTES / 4 - 16, HUGE_PAGE_BYTES / 4, 3 * MiB, 8 * MiB + 37]) {
        const t = zeros([values], { device: 'cpu' });
        const host = t.toHost();
        expect(start2M(host)).toBe(0);
        expect(host.length).toBe(values);
        expect(host.every((v) => v === 0)).toBe(true);
        t.dispose();
      }
      const values = (HUGE_PAGE_BYTES - 2 ** 17) / 4 - 16; // class 2 MiB - 128 KiB, the largest below 2 MiB
      expect(poolCapacity(values)).toBe((HUGE_PAGE_BYTES - 2 ** 17) / 4);
      const below = zeros([values], { device: 'cpu' });
      expect(below.toHost().buffer.byteLength).toBe(HUGE_PAGE_BYTES - 2 ** 17 + 64); // its class and 64 spare bytes, not 2 MiB
      below.dispose();
    });

    (why ? it.skip : it)(`backs a touched 8 MiB tensor with huge pages${why ? ` (skipped: ${why})` : ''}`, () => {
      const t = zeros([(8 * MiB + 4096) / 4], { device: 'cpu' });
      const host = t.f32;
      expect(hugeKb(host)).toBe(0); // untouched: nothing faulted in yet
      host.fill(1);
      // the four whole 2 MiB pages (the kernel may fall short under fragmentation: at least half, never none)
      expect(hugeKb(host)).toBeGreaterThanOrEqual(4096);
      expect(hugeKb(host)).toBeLessThanOrEqual(8192); // none past the tensor's last whole 2 MiB
    });

    (why ? it.skip : it)(`keeps huge pages on memory the host pool recycles${why ? ` (skipped: ${why})` : ''}`, () => {
      const a = zeros([4 * MiB], { device: 'cpu' }); // 16 MiB
      const first = a.kernelData(); // not handed out: recycled on dispose
      first.fill(1);
      expect(hugeKb(first)).toBeGreaterThanOrEqual(8192);
      a.dispose();
      const c = zeros([4 * MiB], { device: 'cpu' });
      const host = c.kernelData();
      expect(host).toBe(first); // the pool's array, zero-filled again
      expect(host.every((v) => v === 0)).toBe(true);
      expect(hugeKb(host)).toBeGreaterThanOrEqual(8192);
      c.dispose();
    });

    (why ? it.skip : it)(`gives a loader's newHostF32 weights the same layout and pages${why ? ` (skipped: ${why})` : ''}`, () => {
      const w = newHostF32(3 * MiB, { device: 'cpu' }); // 12 MiB
      expect(start2M(w)).toBe(0);
      w.fill(0.5);
      expect(hugeKb(w)).toBeGreaterThanOrEqual(6144);
      const adopted = tensor(w, [3, MiB], { device: 'cpu' });
      expect(adopted.f32).toBe(w);
      adopted.dispose();
    });

    // malloc hands a large calloc a free heap block when one fits, touched before (and memset): its 4 KiB pages
    // stayed 4 KiB despite the mark, and a 12 MiB tensor got no huge page at all; the advice drops such pages
    (why ? it.skip : it)(
      `backs large buffers with huge pages also on heap memory malloc recycled${why ? ` (skipped: ${why})` : ''}`,
      () => {
        const { buffers } = child({ LWZ_HUGEPAGES: '' }, { mib: 12, touchMib: 12, count: 4, churn: true });
        expect(buffers).toHaveLength(4);
        for (const { kb } of buffers) expect(kb).toBeGreaterThanOrEqual(6144); // of 12288: at least half, as above
      },
    );

    (thp === 'madvise' ? it : it.skip)('LWZ_HUGEPAGES=0 turns the advice off, and on by default (THP `madvise`)', () => {
      const off = child({ LWZ_HUGEPAGES: '0' }, { mib: 8, touchMib: 8 });
      expect(off).toEqual({ hugePages: false, buffers: [{ advised: 0, kb: 0 }] });
      const on = child({ LWZ_HUGEPAGES: '' }, { mib: 8, touchMib: 8 });
      expect(on.hugePages).toBe(true);
      expect(on.buffers[0].advised).toBe(8 * MiB);
      expect(on.buffers[0].kb).toBeGreaterThanOrEqual(2048); // the touched first 8 MiB: four pages, at least one given
    });
  });
}
