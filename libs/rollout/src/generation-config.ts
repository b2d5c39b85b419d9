// The generation config: how many answers per prompt, how long, and how each token is drawn. One zod schema
// with documented defaults, validated in one place (generate(), the `sample` CLI and `serve` all parse
// through it). Defaults follow Hugging Face's generate(): temperature 1, no top-k/top-p/min-p, no penalty.
// Not the engine's memory settings (EngineOptions) and not the processors themselves (processors.ts).
import { parseConfig, z } from '@lwz/core';

export const GenerationConfigSchema = z.object({
  /** answers per prompt (GRPO's group size G); the prompt is prefilled once and its KV copied to each */
  n: z.number().int().min(1).default(1),
  /** new tokens per answer; default: what the model's context leaves after the prompt */
  maxNewTokens: z.number().int().min(1).optional(),
  /** softmax temperature; 0 = greedy (argmax, lowest id on ties) */
  temperature: z.number().min(0).max(100).default(1),
  /** keep the k most likely tokens; 0 = all */
  topK: z.number().int().min(0).default(0),
  /** keep the smallest most-likely set holding this much probability; 1 = all */
  topP: z.number().gt(0).max(1).default(1),
  /** drop tokens whose probability is below minP times the most likely token's; 0 = off */
  minP: z.number().min(0).max(1).default(0),
  /** Hugging Face / CTRL repetition penalty over prompt and answer tokens: logit / p if > 0, else logit * p; 1 = off */
  repetitionPenalty: z.number().gt(0).max(10).default(1),
  /** stop when the decoded answer contains one of these (matched across token boundaries) */
  stop: z.array(z.string().min(1)).max(16).default([]),
  /** stop on these token ids (the model's end-of-sequence ids are added unless ignoreEos) */
  stopTokenIds: z.array(z.number().int().min(0)).default([]),
  /** keep generating past end-of-sequence tokens (benchmarks) */
  ignoreEos: z.boolean().default(false),
  /** keep the matched stop string at the end of `text` (the templates' parser wants `</answer>`) */
  includeStopString: z.boolean().default(true),
  /** drop special (control) tokens such as <|im_end|> from `text`; token ids are always complete */
  skipSpecialTokens: z.boolean().default(false),
  /** alternatives per token to report with their log-probs (the OpenAI API's `logprobs`); 0 = none */
  topLogprobs: z.number().int().min(0).max(20).default(0),
  /** answer (prompt p, sample j) draws its uniforms from a stream keyed by (seed, p, j): see rng-streams.ts */
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
});

export type GenerationConfig = z.output<typeof GenerationConfigSchema>;
export type GenerationConfigInput = z.input<typeof GenerationConfigSchema>;

/** Validate a partial config (defaults filled in); a UserError lists every bad field. */
export function parseGenerationConfig(raw: unknown, source = 'generation options'): GenerationConfig {
  return parseConfig(GenerationConfigSchema, raw ?? {}, source);
}
