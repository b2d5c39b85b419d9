// AdamW over named parameters (decoupled weight decay, bias-corrected moments), one `adamwStep` op call per
// parameter on the parameter's device. DEFAULT_ADAMW is the one source of the hyper-parameter defaults
// (the kernels op has none; trainer configs take theirs from here). Moments live in flat f32 buffers beside
// each parameter; `state()` and `loadState()` move them to and from named Float32Arrays (safetensors-ready)
// plus JSON metadata, so a resumed run continues bit-identically. Not a schedule and not clipping.
import { type Tensor, adamwStep, tensor, zeros } from '@lwz/kernels';

export interface NamedParam {
  /** unique name, e.g. `model.layers.0.self_attn.q_proj.weight` */
  name: string;
  /** f32, any shape (treated as flat) */
  param: Tensor;
  /** f32, same size and device as `param` */
  grad: Tensor;
}

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /**
   * Which parameters get weight decay. Default: all but norms and biases (names containing `norm` or
   * ending in `bias`), the usual GPT/Qwen practice.
   */
  decay: (name: string) => boolean;
}

export const DEFAULT_ADAMW: AdamWOptions = {
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.1,
  decay: (name) => !/norm/i.test(name) && !/bias$/.test(name),
};

/** What a checkpoint keeps: moment tensors by name and the JSON-able rest. */
export interface AdamWState {
  /** `<param>.exp_avg` and `<param>.exp_avg_sq`, each a copy of size param.size */
  tensors: Record<string, Float32Array>;
  meta: { format: 'lwz-adamw/1'; step: number; beta1: number; beta2: number; eps: number; weightDecay: number };
}

interface Slot {
  p: NamedParam;
  m: Tensor; // same shape and device as p.param
  v: Tensor; // same shape and device as p.param
  decay: boolean;
}

export class AdamW {
  readonly options: AdamWOptions;
  private slots: Slot[];
  private steps = 0;

  constructor(params: readonly NamedParam[], options: Partial<AdamWOptions> = {}) {
    this.options = { ...DEFAULT_ADAMW, ...options };
    const names = new Set<string>();
    this.slots = params.map((p) => {
      if (names.has(p.name)) throw new Error(`AdamW: parameter name ${p.name} appears twice`);
      names.add(p.name);
      if (p.param.dtype !== 'f32' || p.grad.dtype !== 'f32') throw new Error(`AdamW: ${p.name}: param and grad must be f32`);
      if (p.grad.size !== p.param.size || p.grad.device !== p.param.device) {
        throw new Error(
          `AdamW: ${p.name}: grad (${p.grad.size} on ${p.grad.device}) must match param (${p.param.size} on ${p.param.device})`,
        );
      }
      return {
        p,
        m: zeros(p.param.shape, { device: p.param.device }),
        v: zeros(p.param.shape, { device: p.param.device }),
        decay: this.options.decay(p.name),
      };
    });
  }

  /** Steps taken so far (the bias correction of the next step uses stepCount + 1). */
  get stepCount(): number {
    return this.steps;
  }

  /** One update of every parameter from its current grad, at learning rate `lr`. */
  step(lr: number): void {
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`AdamW: learning rate must be finite and >= 0, got ${lr}`);
    this.steps += 1;
    const { beta1, beta2, eps, weightDecay } = this.options;
    for (const s of this.slots) {
      adamwStep(s.p.param, s.p.grad, s.m, s.v, { lr, beta1, beta2, eps, weightDecay: s.decay ? weightDecay : 0, step: this.steps });
    }
  }

  /** A copy of the optimizer state (host arrays; later steps do not change it). */
  state(): AdamWState {
    const tensors: Record<string, Float32Array> = {};
    for (const s of this.slots) {
      tensors[`${s.p.name}.exp_avg`] = new Float32Array(s.m.toHost() as Float32Array);
      tensors[`${s.p.name}.exp_avg_sq`] = new Float32Array(s.v.toHost() as Float32Array);
    }
    const { beta1, beta2, eps, weightDecay } = this.options;
    return { tensors, meta: { format: 'lwz-adamw/1', step: this.steps, beta1, beta2, eps, weightDecay } };
  }

  /** Restore a state saved by `state()` for the same parameter names and sizes; hyperparameters must match. */
  loadState(state: AdamWState): void {
    const { meta, tensors } = state;
    if (meta.format !== 'lwz-adamw/1') throw new Error(`optimizer state: format ${JSON.stringify(meta.format)}, expected "lwz-adamw/1"`);
    if (!Number.isInteger(meta.step) || meta.step < 0) throw new Error(`optimizer state: step must be an integer >= 0, got ${meta.step}`);
    for (const key of ['beta1', 'beta2', 'eps', 'weightDecay'] as const) {
      if (meta[key] !== this.options[key]) {
        throw new Error(`optimizer state: ${key} was ${meta[key]} when saved, ${this.options[key]} now; resume with the same ${key}`);
      }
    }
    const expected = new Set(this.slots.flatMap((s) => [`${s.p.name}.exp_avg`, `${s.p.name}.exp_avg_sq`]));
    const extra = Object.keys(tensors).filter((k) => !expected.has(k));
    if (extra.length) throw new Error(`optimizer state: unknown tensors ${extra.slice(0, 5).join(', ')} (parameter names changed?)`);
    const loaded = this.slots.map((s) => {
      const pair = [tensors[`${s.p.name}.exp_avg`], tensors[`${s.p.name}.exp_avg_sq`]].map((arr, i) => {
        const name = `${s.p.name}.${i === 0 ? 'exp_avg' : 'exp_avg_sq'}`;
        if (!arr) throw new Error(`optimizer state: missing tensor ${name}`);
        if (arr.length !== s.p.param.size)
          throw new Error(`optimizer state: ${name} has ${arr.length} values, the parameter has ${s.p.param.size}`);
        return tensor(new Float32Array(arr), s.p.param.shape, { device: s.p.param.device });
      });
      return { s, m: pair[0], v: pair[1] };
    });
    for (const { s, m, v } of loaded) {
      s.m.dispose();
      s.v.dispose();
      s.m = m;
      s.v = v;
    }
    this.steps = meta.step;
  }

  /** Free the moment buffers (parameters and grads belong to the caller). */
  dispose(): void {
    for (const s of this.slots) {
      s.m.dispose();
      s.v.dispose();
    }
  }
}
