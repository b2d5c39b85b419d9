// LoRA adapters: W x + (alpha / r) B A x on chosen projections, A (r, in) random (normal, std 1/sqrt(in)),
// B (out, r) zero, so an adapted model starts equal to its base. Enabling LoRA freezes every base weight, so
// the optimizer sees only the adapters (named the way PEFT names them). Saving merges W + (alpha/r) B A into
// the base tensor, one weight at a time. Not PEFT's adapter file format (we always save merged).
import { Rng, UserError } from '@lwz/core';
import { copy, matmul, tensor, zeros, type Tensor } from '@lwz/kernels';
import type { LoraAdapter } from './linear';
import type { ProjName } from './layer';
import type { Qwen2Model } from './model';
import type { Param } from './params';

export interface LoraOptions {
  rank: number;
  alpha: number;
  /** projections to adapt (default q and v, as in the LoRA paper) */
  targets?: ProjName[];
}

const ALL: ProjName[] = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'];
/** The projections adapted when LoraOptions.targets is not given (q and v, as in the LoRA paper). */
export const DEFAULT_LORA_TARGETS: readonly ProjName[] = ['q', 'v'];

function baseName(layer: number, proj: ProjName): string {
  const mod = proj === 'gate' || proj === 'up' || proj === 'down' ? 'mlp' : 'self_attn';
  return `model.layers.${layer}.${mod}.${proj}_proj.weight`;
}

/** Add adapters to `model` and freeze its base weights. */
export function enableLora(model: Qwen2Model, opts: LoraOptions, rng: Rng): void {
  if (model.loraState) throw new Error('enableLora: the model already has LoRA adapters');
  const targets = opts.targets ?? DEFAULT_LORA_TARGETS;
  for (const t of targets)
    if (!ALL.includes(t)) throw new UserError(`LoRA target "${t}" is not a projection; choose from ${ALL.join(', ')}`);
  // no target would freeze every weight and train nothing; a repeated one would add two adapters to one projection
  if (targets.length === 0) throw new UserError(`LoRA targets is empty: name at least one projection (${ALL.join(', ')})`);
  const repeated = targets.find((t, i) => targets.indexOf(t) !== i);
  if (repeated !== undefined) throw new UserError(`LoRA target "${repeated}" is listed twice; name each projection once`);
  if (!Number.isInteger(opts.rank) || opts.rank <= 0) throw new UserError(`LoRA rank must be a positive integer, got ${opts.rank}`);
  if (!(opts.alpha > 0)) throw new UserError(`LoRA alpha must be positive, got ${opts.alpha}`);
  // every base weight is frozen below, so a reward model's value head (score.weight, randomly initialised) would
  // never train; PEFT keeps it trainable (modules_to_save), which the adapter save and resume here do not carry
  if (model.config.numLabels !== undefined)
    throw new UserError('LoRA on a sequence classifier (reward model) would freeze its value head: train it without LoRA');
  const device = model.device;
  const params: Param[] = [];
  const scale = opts.alpha / opts.rank;
  for (let l = 0; l < model.config.numLayers; l++) {
    for (const proj of targets) {
      const base = model.store.get(baseName(l, proj));
      const [out, inDim] = base.shape;
      const prefix = `base_model.model.${base.name.replace(/\.weight$/, '')}`;
      const r = rng.split(prefix);
      const aVals = Float32Array.from({ length: opts.rank * inDim }, () => r.normal() / Math.sqrt(inDim));
      const a: Param = {
        name: `${prefix}.lora_A.weight`,
        shape: [opts.rank, inDim],
        value: tensor(aVals, [opts.rank, inDim], { device }),
        grad: null,
        trainable: true,
      };
      const b: Param = {
        name: `${prefix}.lora_B.weight`,
        shape: [out, opts.rank],
        value: zeros([out, opts.rank], { device }),
        grad: null,
        trainable: true,
      };
      params.push(a, b);
      model.lora[l][proj] = { a, b, scale } satisfies LoraAdapter;
    }
  }
  for (const p of model.store.params) {
    p.trainable = false;
    p.grad?.dispose();
    p.grad = null;
  }
  model.loraState = { rank: opts.rank, alpha: opts.alpha, targets: [...targets], params };
}

/**
 * fn() with the adapters switched off: the model computes as its frozen base, from the same weights in memory (so a
 * LoRA run's start policy needs no second copy of the base). For forwards only: a backward inside would find no
 * adapters to give gradients to. The adapters are back when fn returns or throws.
 */
export function withoutAdapters<T>(model: Qwen2Model, fn: () => T): T {
  const saved = model.lora;
  model.lora = saved.map(() => ({}));
  try {
    return fn();
  } finally {
    model.lora = saved;
  }
}

/** The adapter applied to base weight `name`, if any. */
export function adapterFor(model: Qwen2Model, name: string): LoraAdapter | null {
  const m = /^model\.layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)_proj\.weight$/.exec(name);
  if (!m) return null;
  return model.lora[Number(m[1])]?.[m[2] as ProjName] ?? null;
}

/** W + scale B A as a new tensor (the caller disposes it). */
export function mergedWeight(base: Param, adapter: LoraAdapter): Tensor {
  const w = copy(base.value, zeros(base.shape, { device: base.value.device }));
  matmul(adapter.b.value, adapter.a.value, { alpha: adapter.scale, out: w, accumulate: true });
  return w;
}

/** Fold every adapter into its base weight and remove the adapters (base weights become trainable again). */
export function mergeLora(model: Qwen2Model): void {
  if (!model.loraState) return;
  for (let l = 0; l < model.config.numLayers; l++) {
    for (const [proj, adapter] of Object.entries(model.lora[l])) {
      if (!adapter) continue;
      const base = model.store.get(baseName(l, proj as ProjName));
      matmul(adapter.b.value, adapter.a.value, { alpha: adapter.scale, out: base.value, accumulate: true });
    }
    model.lora[l] = {};
  }
  for (const p of model.loraState.params) {
    p.value.dispose();
    p.grad?.dispose();
  }
  for (const p of model.store.params) p.trainable = true;
  model.loraState = null;
}
