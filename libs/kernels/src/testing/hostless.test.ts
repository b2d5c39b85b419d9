// The hostless test device: its tensors have no host view (like GPU memory), ops on it give exactly the ref
// results (it runs the ref kernels on the hidden buffers, offsets included), and the real cuda backend
// state is restored afterwards.
import { backendStatus, copy, matmul, tensor, toDevice } from '../index';
import { withHostlessDevice } from './index';

describe('withHostlessDevice', () => {
  it('has no host views, runs ops (views included) like ref, and restores the device after', () => {
    const before = backendStatus().find((s) => s.device === 'cuda');
    const a = tensor([1, 2, 3, 4, 5, 6], [3, 2], { device: 'ref' });
    const b = tensor([1, 0, 0, 1, 2, 2], [2, 3], { device: 'ref' });
    const want = Array.from(matmul(a.rows(1, 2), b).toHost());
    withHostlessDevice((device) => {
      const [da, db] = [toDevice(a, device), toDevice(b, device)];
      expect(() => da.data).toThrow(/has no host view/);
      expect(Array.from(matmul(da.rows(1, 2), db).toHost())).toEqual(want);
      const out = tensor([0, 0, 0, 0], [4], { device });
      copy(da.view(3, [2]), out.view(1, [2]));
      expect(Array.from(out.toHost())).toEqual([0, 4, 5, 0]);
    });
    expect(backendStatus().find((s) => s.device === 'cuda')).toEqual(before);
  });
});
