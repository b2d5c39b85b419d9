// The model's runtime knobs: how it computes, never what (the numbers do not depend on them). One zod
// schema with documented defaults, validated once when a model is built (initModel, loadModel, new
// Qwen2Model) and frozen after: pretrain presets and `--set model.runtime.<key>=...` reach it through the
// trainer config, `lwz-train score --runtime key=value` on the command line. Not the architecture
// (config.ts) and not a device choice (@lwz/kernels picks devices).
import { parseConfig, z } from '@lwz/core';

/** Default cap on logits kept at once (f32 values): 16 M = 64 MB (110 rows of Qwen2's 151,936-token vocabulary). */
export const DEFAULT_LOGIT_BUDGET = 1 << 24;

export const modelRuntimeSchema = z
  .object({
    recompute: z
      .boolean()
      .default(false)
      .describe("keep only each layer's input during a grad forward and recompute its activations in backward (memory ~ L x (N, C))"),
    logitBudget: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_LOGIT_BUDGET)
      .describe('most logits (f32 values) held at once: the vocabulary projection runs over chunks of rows this size'),
  })
  .strict();

export type ModelRuntime = Readonly<z.output<typeof modelRuntimeSchema>>;
export type ModelRuntimeInput = z.input<typeof modelRuntimeSchema>;

/** Validate runtime knobs (missing ones take their defaults); the result is frozen. */
export function parseModelRuntime(raw: ModelRuntimeInput | undefined, source = 'model runtime'): ModelRuntime {
  return Object.freeze(parseConfig(modelRuntimeSchema, raw ?? {}, source));
}
