// Tensor lifetimes: tidy() disposes what a scope created except what it returns, nested scopes hand kept
// tensors to their parent, and views (reshape, view, rows: storage + offset) share storage that is freed
// only with the last live view.
import { Tensor, tidy, zeros, add, copy, copyAt, rmsnorm, tensor, type Storage } from './index';

/** Host storage that counts its frees, standing in for device memory. */
function countingTensor(values: number[]): { t: Tensor; frees: () => number } {
  let frees = 0;
  const host = Float32Array.from(values);
  const storage: Storage = { host, length: host.length, read: (o, n) => host.subarray(o, o + n), free: () => void frees++ };
  return { t: new Tensor('f32', [values.length], 'ref', storage), frees: () => frees };
}

describe('tidy', () => {
  it('disposes intermediates and keeps the returned tensors (single, array or object)', () => {
    const x = tensor([1, 2, 3], [3], { device: 'ref' });
    let inner: Tensor[] = [];
    const { y, rstd } = tidy(() => {
      const a = add(x, x);
      const b = add(a, x);
      inner = [a, b];
      return rmsnorm(b, tensor([1, 1, 1], [3], { device: 'ref' }));
    });
    expect(inner.every((t) => t.isDisposed)).toBe(true);
    expect(y.isDisposed || rstd.isDisposed || x.isDisposed).toBe(false);
    expect(() => inner[0].toHost()).toThrow(/use of a disposed tensor \[3\] on ref/);
  });

  it('nested scopes pass kept tensors up to the enclosing scope', () => {
    let kept: Tensor | undefined;
    tidy(() => {
      kept = tidy(() => zeros([2], { device: 'ref' }));
      expect(kept.isDisposed).toBe(false);
      return null;
    });
    expect(kept?.isDisposed).toBe(true);
  });

  it('disposes on a throw as well', () => {
    let made: Tensor | undefined;
    expect(() =>
      tidy(() => {
        made = zeros([1], { device: 'ref' });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(made?.isDisposed).toBe(true);
  });
});

describe('reshape views', () => {
  it('a view dropped inside tidy does not free the storage of the tensor it returns', () => {
    const { t, frees } = countingTensor([1, 2, 3, 4]);
    const kept = tidy(() => {
      t.reshape([2, 2]);
      return t;
    });
    expect(kept.isDisposed).toBe(false);
    expect(frees()).toBe(0);
    const view = t.reshape([4, 1]);
    t.dispose();
    expect(frees()).toBe(0);
    expect(Array.from(view.toHost())).toEqual([1, 2, 3, 4]);
    view.dispose();
    view.dispose();
    expect(frees()).toBe(1);
  });
});

describe('offset views', () => {
  const base = () =>
    tensor(
      Float32Array.from({ length: 12 }, (_, i) => i),
      [4, 3],
      { device: 'ref' },
    );

  it('view, rows and reshape address a range of the same storage, nested offsets adding up', () => {
    const t = base();
    const mid = t.rows(1, 2); // rows 1..2 = values 3..8
    expect(mid.shape).toEqual([2, 3]);
    expect(mid.offset).toBe(3);
    expect(Array.from(mid.toHost())).toEqual([3, 4, 5, 6, 7, 8]);
    const inner = mid.view(2, [2]).reshape([1, 2]); // values 5, 6
    expect(inner.offset).toBe(5);
    expect(Array.from(inner.f32)).toEqual([5, 6]);
    inner.f32[0] = -1; // writes through to the base
    expect(t.f32[5]).toBe(-1);
    expect(() => t.rows(3, 2)).toThrow(/rows \[3, 5\) are outside a tensor of 4 rows/);
    expect(() => mid.view(5, [2])).toThrow(/view \[2\] at 5 does not fit in a tensor of shape \[2, 3\]/);
  });

  it('knows when two tensors share elements', () => {
    const t = base();
    expect(t.rows(0, 2).overlaps(t.rows(1, 1))).toBe(true);
    expect(t.rows(0, 2).overlaps(t.rows(2, 2))).toBe(false);
    expect(t.overlaps(base())).toBe(false);
    expect(() => copy(t.view(0, [4]), t.view(2, [4]))).toThrow(/copy: src and out overlap in one storage \(offsets 0 and 2, 4 values\)/);
    expect(() => copy(t.rows(0, 1), t.rows(1, 2))).toThrow(/copy: out has 6 values/);
  });

  it('copyAt names what is wrong: rank, rows, values per position, positions, dtype, overlap', () => {
    const cache = zeros([2, 4, 3], { device: 'ref' });
    const step = (t: number) => zeros([2, t, 3], { device: 'ref' });
    expect(() => copyAt(zeros([6], { device: 'ref' }), cache, [0, 0])).toThrow(
      /copyAt: src and out must be \(B, T, \.\.\.\) and \(B, S, \.\.\.\)/,
    );
    expect(() => copyAt(zeros([3, 1, 3], { device: 'ref' }), cache, [0, 0, 0])).toThrow(/copyAt: src has 3 rows, out 2/);
    expect(() => copyAt(zeros([2, 1, 2], { device: 'ref' }), cache, [0, 0])).toThrow(/copyAt: src holds 2 values per position, out 3/);
    expect(() => copyAt(step(1), cache, [0])).toThrow(/copyAt: at has 1 positions for 2 rows/);
    expect(() => copyAt(step(2), cache, [0, 3])).toThrow(
      /copyAt: at\[1\] = 3 does not leave room for 2 positions in 4 \(needs 0 <= at <= 2\)/,
    );
    expect(() => copyAt(step(1), cache, [-1, 0])).toThrow(/at\[0\] = -1/);
    expect(() => copyAt(step(1), cache, [0.5, 0])).toThrow(/at\[0\] = 0.5/);
    expect(() => copyAt(zeros([2, 1, 3], { device: 'ref', dtype: 'i32' }), cache, [0, 0])).toThrow(/copyAt: src is i32, out is f32/);
    expect(() => copyAt(cache.view(0, [2, 1, 3]), cache, [1, 1])).toThrow(/copyAt: src and out overlap/);
    const values = tensor([1, 2, 3, 4, 5, 6], [2, 1, 3], { device: 'ref' });
    expect(Array.from(copyAt(values, cache, [3, 1]).toHost())).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0,
    ]);
  });

  it('copyAt headMajor puts src (B, T, H, D) at out[b, h, at[b] + t] of (B, H, S, D), as a plain loop does; names what is wrong', () => {
    const [B, T, H, S, D] = [3, 2, 2, 5, 3];
    const src = tensor(
      Array.from({ length: B * T * H * D }, (_, i) => i + 1),
      [B, T, H, D],
      { device: 'ref' },
    );
    const at = [3, 0, 1];
    const want = new Array<number>(B * H * S * D).fill(0);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let h = 0; h < H; h++)
          for (let x = 0; x < D; x++) want[((b * H + h) * S + at[b] + t) * D + x] = src.f32[((b * T + t) * H + h) * D + x];
    const cache = zeros([B, H, S, D], { device: 'ref' });
    expect(Array.from(copyAt(src, cache, at, { headMajor: true }).toHost())).toEqual(want);
    expect(() => copyAt(zeros([3, 2], { device: 'ref' }), cache, at, { headMajor: true })).toThrow(
      /copyAt: src and out must be \(B, T, H, \.\.\.\) and \(B, H, S, \.\.\.\)/,
    );
    expect(() => copyAt(zeros([3, 1, 3, 3], { device: 'ref' }), cache, at, { headMajor: true })).toThrow(
      /copyAt: headMajor src has 3 heads \(dim 2\), out 2 \(dim 1\)/,
    );
    expect(() => copyAt(zeros([3, 1, 2, 4], { device: 'ref' }), cache, at, { headMajor: true })).toThrow(
      /copyAt: src holds 4 values per \(position, head\), out 3/,
    );
    expect(() => copyAt(src, cache, [4, 0, 0], { headMajor: true })).toThrow(/at\[0\] = 4 does not leave room for 2 positions in 5/);
  });

  it('joins tensors laid end to end in one storage, and only those', () => {
    const { t, frees } = countingTensor([0, 1, 2, 3, 4, 5, 6, 7]);
    const [a, b, c] = [t.view(0, [1, 2]), t.view(2, [3]), t.view(5, [3, 1])];
    const j = Tensor.joined([a, b, c], [2, 4]);
    expect(j?.shape).toEqual([2, 4]);
    expect(j?.offset).toBe(0);
    expect(Array.from(j?.toHost() ?? [])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const tail = Tensor.joined([b, c], [6]);
    expect(tail?.offset).toBe(2);
    tail?.dispose();
    expect(Tensor.joined([a, c], [5])).toBeNull(); // a gap
    expect(Tensor.joined([b, a], [5])).toBeNull(); // out of order
    expect(Tensor.joined([a, b], [6])).toBeNull(); // wrong size
    expect(Tensor.joined([a, base().view(2, [3])], [5])).toBeNull(); // another storage
    expect(Tensor.joined([], [0])).toBeNull();
    for (const x of [t, a, b, c]) x.dispose();
    expect(frees()).toBe(0); // the joined tensor holds the storage like a view
    expect(Tensor.joined([b], [3])).toBeNull(); // disposed
    j?.dispose();
    expect(frees()).toBe(1);
  });

  it('frees the storage with the last live view, whatever the order', () => {
    const { t, frees } = countingTensor([1, 2, 3, 4, 5, 6]);
    const a = t.view(2, [2]);
    const b = a.rows(1, 1);
    t.dispose();
    a.dispose();
    expect(frees()).toBe(0);
    expect(Array.from(b.toHost())).toEqual([4]);
    b.dispose();
    expect(frees()).toBe(1);
  });

  it('refuses a tensor that does not fit its storage', () => {
    const { t } = countingTensor([1, 2, 3]);
    expect(() => t.view(1, [3])).toThrow(/view \[3\] at 1 does not fit/);
    const storage: Storage = { host: null, length: 8, read: () => new Float32Array(0), free: () => undefined };
    expect(() => new Tensor('f32', [4], 'cuda', storage, 5)).toThrow(/tensor \[4\] at offset 5 needs 9 values, its storage holds 8/);
    expect(new Tensor('f32', [4], 'cuda', storage, 4).offset).toBe(4);
  });
});
