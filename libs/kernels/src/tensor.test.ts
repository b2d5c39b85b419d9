// Tensor lifetimes: tidy() disposes what a scope created except what it returns, nested scopes hand kept
// tensors to their parent, and reshape views share storage that is freed only with the last live view.
import { Tensor, tidy, zeros, add, rmsnorm, tensor, type Storage } from './index';

/** Host storage that counts its frees, standing in for device memory. */
function countingTensor(values: number[]): { t: Tensor; frees: () => number } {
  let frees = 0;
  const host = Float32Array.from(values);
  const storage: Storage = { host, read: () => host, free: () => void frees++ };
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
