// LoRA: the adapted forward equals the float64 reference run on merged weights W + (alpha/r) B A; adapter
// gradients match finite differences of that reference (6 entries of every adapter tensor, on every host
// backend, differences computed once) while base weights stay frozen; saving merges the adapters so the
// reloaded plain model scores like the adapted one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { availableDevices, tensor, type Device } from '@lwz/kernels';
import { addValueHead, loadModel, saveModel } from './checkpoint';
import { enableLora, mergeLora, withoutAdapters } from './lora';
import type { Qwen2Model } from './model';
import { float64Weights, padBatch, randomIds, randomModel, VARIANTS } from './testing/fixtures';
import { centralDifference } from '@lwz/kernels/testing';
import { FD_STEP, probeIndices, referenceLoss } from './testing/gradcheck';
import { referenceLogprobs } from './testing/reference-qwen2';

const cfg = VARIANTS[0][1];
const RANK = 2;
const ALPHA = 3;
const DEVICES = availableDevices().filter((d) => d !== 'cuda');

/** A model with adapters on every projection and random (non-zero) B, so A's gradient is not trivially 0. */
function adapted(seed: number, device: Device = 'ref'): Qwen2Model {
  const model = randomModel(cfg, seed, device, 0.3);
  enableLora(model, { rank: RANK, alpha: ALPHA, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] }, new Rng(seed));
  const rng = new Rng(seed + 1);
  for (const p of model.loraState?.params ?? [])
    if (p.name.includes('lora_B')) p.value.f32.forEach((_, i, a) => (a[i] = rng.normal() * 0.3));
  return model;
}

/** [index, finite difference] for 6 entries of every adapter tensor of adapted(2), computed once. */
let fdMemo: Map<string, [number, number][]> | null = null;
function adapterFiniteDifferences(seqs: number[][], w: Float32Array, T: number): Map<string, [number, number][]> {
  if (fdMemo) return fdMemo;
  const model = adapted(2);
  const lora = loraF64(model);
  fdMemo = new Map();
  for (const p of model.loraState?.params ?? []) {
    const theta = lora.get(p.name) as Float64Array;
    const picks = probeIndices(new Rng(9).split(p.name), theta.length, 6);
    fdMemo.set(
      p.name,
      picks.map((i) => [i, centralDifference(theta, i, () => referenceLoss(cfg, mergedF64(model, lora), seqs, w, T), FD_STEP)]),
    );
  }
  return fdMemo;
}

/** Float64 weights with every adapter merged: W + (alpha / r) B A. */
function mergedF64(model: Qwen2Model, lora: Map<string, Float64Array>): Map<string, Float64Array> {
  const weights = float64Weights(model);
  for (const [name, W] of weights) {
    const prefix = `base_model.model.${name.replace(/\.weight$/, '')}`;
    const A = lora.get(`${prefix}.lora_A.weight`);
    const B = lora.get(`${prefix}.lora_B.weight`);
    if (!A || !B) continue;
    const inDim = A.length / RANK;
    const out = B.length / RANK;
    for (let o = 0; o < out; o++) {
      for (let i = 0; i < inDim; i++) {
        let s = 0;
        for (let r = 0; r < RANK; r++) s += B[o * RANK + r] * A[r * inDim + i];
        W[o * inDim + i] += (ALPHA / RANK) * s;
      }
    }
  }
  return weights;
}

function loraF64(model: Qwen2Model): Map<string, Float64Array> {
  return new Map((model.loraState?.params ?? []).map((p) => [p.name, Float64Array.from(p.value.f32)]));
}

describe('LoRA', () => {
  const rng = new Rng(3);
  const seqs = [randomIds(rng, 6, cfg.vocabSize), randomIds(rng, 4, cfg.vocabSize)];
  const batch = padBatch(seqs);

  it('forward equals the reference on merged weights; merge and save keep the scores', () => {
    const model = adapted(1);
    const { logprobs } = model.forwardLogprobs(batch);
    const lp = Array.from(logprobs.f32);
    const merged = mergedF64(model, loraF64(model));
    seqs.forEach((s, b) => {
      expect(lp.slice(b * batch.T, b * batch.T + s.length - 1)).toBeAllClose(referenceLogprobs(cfg, merged, s), { atol: 1e-4, rtol: 0 });
    });
    const dir = mkdtempSync(join(tmpdir(), 'lwz-lora-'));
    try {
      saveModel(model, join(dir, 'm'));
      const back = loadModel(join(dir, 'm'), 'ref');
      expect(back.loraState).toBeNull();
      expect(Array.from(back.forwardLogprobs(batch).logprobs.f32)).toBeAllClose(lp, { atol: 1e-5, rtol: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    mergeLora(model);
    expect(model.trainableParams().length).toBe(model.store.params.length);
    expect(Array.from(model.forwardLogprobs(batch).logprobs.f32)).toBeAllClose(lp, { atol: 1e-5, rtol: 0 });
  });

  const w = Float32Array.from({ length: 2 * batch.T }, () => rng.normal());

  it.each(DEVICES)('trains only the adapters on %s, with gradients matching finite differences', (device) => {
    const fd = adapterFiniteDifferences(seqs, w, batch.T);
    const model = adapted(2, device);
    expect(model.trainableParams().every((p) => p.name.includes('lora_'))).toBe(true);
    model.forwardLogprobs(padBatch(seqs, device), { grad: true });
    model.backward(tensor(w, [2, batch.T], { device }));
    expect(model.store.params.every((p) => p.grad === null)).toBe(true);
    let checked = 0;
    for (const p of model.loraState?.params ?? []) {
      const grad = p.grad?.toHost() ?? new Float32Array(0);
      for (const [i, want] of fd.get(p.name) ?? []) {
        if (Math.abs(grad[i] - want) > 2e-4 + 2e-3 * Math.abs(want))
          throw new Error(`${p.name}[${i}]: gradient ${grad[i]}, finite difference ${want}`);
        checked++;
      }
    }
    expect(checked).toBe(6 * 28); // 2 layers x 7 projections x (A, B)
  });

  it.each(DEVICES)(
    'withoutAdapters computes as the base model on %s, bit for bit, and puts the adapters back (also after a throw)',
    (device) => {
      const b = padBatch(seqs, device);
      const base = Array.from(randomModel(cfg, 1, device, 0.3).forwardLogprobs(b).logprobs.f32);
      const model = adapted(1, device);
      const withAdapters = Array.from(model.forwardLogprobs(b).logprobs.f32);
      expect(withAdapters).not.toEqual(base); // B is non-zero: the adapters change the outputs
      expect(withoutAdapters(model, () => Array.from(model.forwardLogprobs(b).logprobs.f32))).toEqual(base);
      expect(Array.from(model.forwardLogprobs(b).logprobs.f32)).toEqual(withAdapters);
      expect(() =>
        withoutAdapters(model, () => {
          throw new Error('inside');
        }),
      ).toThrow('inside');
      expect(Array.from(model.forwardLogprobs(b).logprobs.f32)).toEqual(withAdapters);
    },
  );

  it('starts equal to the base model (B = 0) and validates its options', () => {
    const base = randomModel(cfg, 4, 'ref', 0.3);
    const before = Array.from(base.forwardLogprobs(batch).logprobs.f32);
    enableLora(base, { rank: 4, alpha: 8 }, new Rng(0));
    expect(Array.from(base.forwardLogprobs(batch).logprobs.f32)).toEqual(before);
    expect(() => enableLora(randomModel(cfg, 4), { rank: 0, alpha: 1 }, new Rng(0))).toThrow(/rank/);
    expect(() => enableLora(randomModel(cfg, 4), { rank: 2, alpha: 1, targets: ['x' as 'q'] }, new Rng(0))).toThrow(
      /"x" is not a projection/,
    );
    expect(() => enableLora(randomModel(cfg, 4), { rank: 2, alpha: 1, targets: [] }, new Rng(0))).toThrow(/targets is empty/);
    expect(() => enableLora(randomModel(cfg, 4), { rank: 2, alpha: 1, targets: ['q', 'v', 'q'] }, new Rng(0))).toThrow(
      /"q" is listed twice/,
    );
    // a reward model's value head would be frozen with the base weights and never train
    expect(() => enableLora(addValueHead(randomModel(cfg, 4), new Rng(1)), { rank: 2, alpha: 1 }, new Rng(0))).toThrow(
      /LoRA on a sequence classifier \(reward model\) would freeze its value head/,
    );
  });
  it('adapts q and v by default, named as PEFT names them, with A ~ N(0, 1/in); refuses a fractional rank, alpha 0 and a second enable', () => {
    const model = randomModel(cfg, 4, 'ref', 0.3);
    enableLora(model, { rank: 8, alpha: 16 }, new Rng(0));
    expect(model.loraState?.targets).toEqual(['q', 'v']);
    const names = (model.loraState?.params ?? []).map((p) => p.name);
    const peft = (l: number, proj: string, ab: string) => `base_model.model.model.layers.${l}.self_attn.${proj}_proj.lora_${ab}.weight`;
    expect(names).toEqual([0, 1].flatMap((l) => ['q', 'v'].flatMap((proj) => [peft(l, proj, 'A'), peft(l, proj, 'B')])));
    // A is (rank, in) = (8, 16) with std 1/sqrt(16) = 0.25: 512 draws in all, their sample std within 15% of it
    const a = (model.loraState?.params ?? [])
      .filter((p) => p.name.includes('lora_A'))
      .flatMap((p) => Array.from(p.value.f32 as Float32Array));
    expect(a.length).toBe(512);
    const std = Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    expect(Math.abs(std - 0.25)).toBeLessThan(0.25 * 0.15);
    expect(() => enableLora(model, { rank: 8, alpha: 16 }, new Rng(0))).toThrow(/already has LoRA adapters/);
    model.store.ensureGrads(); // frozen base weights get no gradient buffer
    expect(model.store.params.every((p) => p.grad === null)).toBe(true);
    expect(() => enableLora(randomModel(cfg, 4), { rank: 1.5, alpha: 1 }, new Rng(0))).toThrow(
      'LoRA rank must be a positive integer, got 1.5',
    );
    expect(() => enableLora(randomModel(cfg, 4), { rank: 2, alpha: 0 }, new Rng(0))).toThrow('LoRA alpha must be positive, got 0');
    expect(() => enableLora(randomModel(cfg, 4), { rank: 2, alpha: NaN }, new Rng(0))).toThrow('LoRA alpha must be positive, got NaN');
  });
});
