// The optimizer never touches host memory: AdamW steps (with and without decay), clipping and gradient
// accumulation on a device whose tensors have no host view (@lwz/kernels/testing) give exactly the ref
// device's numbers, and AdamW's state() reads moments back through toHost.
import { Rng } from '@lwz/core';
import { tensor, type Device } from '@lwz/kernels';
import { withHostlessDevice } from '@lwz/kernels/testing';
import { GradientAccumulator } from './accumulate';
import { AdamW } from './adamw';
import { clipGradNorm } from './clip';

function exercise(device: Device): number[][] {
  const rng = new Rng(3);
  const vec = (n: number, s = 1) =>
    tensor(
      Float32Array.from({ length: n }, () => rng.normal() * s),
      [n],
      { device },
    );
  const params = [
    { name: 'layers.0.mlp.weight', param: vec(13), grad: vec(13) },
    { name: 'layers.0.input_layernorm.weight', param: vec(5), grad: vec(5) },
  ];
  const opt = new AdamW(params);
  const acc = new GradientAccumulator(params.map((p) => p.grad));
  const out: number[][] = [];
  for (let step = 0; step < 3; step++) {
    acc.zero();
    acc.add([vec(13, 3), vec(5, 3)], 4);
    acc.add([vec(13, 3), vec(5, 3)], 2);
    acc.finish('tokens');
    const clip = clipGradNorm(
      params.map((p) => p.grad),
      1,
    );
    out.push([clip.norm, clip.scale]);
    opt.step(1e-2);
    out.push(...params.map((p) => Array.from(p.param.toHost())));
  }
  out.push(...Object.values(opt.state().tensors).map((t) => Array.from(t)));
  return out;
}

it('steps, clips and accumulates on a device without host memory exactly like on ref', () => {
  const want = exercise('ref');
  const got = withHostlessDevice((device) => exercise(device));
  expect(got).toEqual(want);
  expect(want[0][1]).toBeLessThan(1); // the clip was active
});
