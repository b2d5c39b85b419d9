// The quality-reward interface. Real scorers (built-in RM, ONNX RM, chat judge) live in libs/judges and are
// made from config through the factory registry here; this file has only trivial scorers for tests and
// ablations. Output scale: every scorer returns scores in [0, 1] (a judge's 1-10 as (s - 1) / 9, an RM's logit
// through a sigmoid or a documented calibration), so the three rewards share one scale for the combinations
// that sum raw rewards; `raw` keeps the scorer's own number for logs.
import { UserError, createRegistry } from '@lwz/core';

export interface QualityItem {
  prompt: string;
  /** the whole completion */
  response: string;
  /** the <answer> text, or null when the completion has no answer block */
  answer: string | null;
}

export interface QualityScore {
  /** in [0, 1], higher is better */
  score: number;
  /** the scorer's own value (logit, 1-10 grade, ...), for logs */
  raw?: number;
  /** a short reason (judges), for logs; untrusted model text */
  reason?: string;
  /** the scorer had no usable score for this item (a judge's replies never parsed) and `score` is its stand-in */
  fallback?: boolean;
  /** the scorer read only the head of the answer (a reward model whose window is shorter than the answer) */
  truncated?: boolean;
}

export interface QualityScorer {
  /** stable id for caches and logs: kind, model and version (e.g. "judge:gpt-4o@rubric-1", "constant:0.5") */
  readonly id: string;
  /** One score per item, in order. Batched: implementations choose their own micro-batching/concurrency. */
  score(items: readonly QualityItem[], options?: { signal?: AbortSignal }): Promise<QualityScore[]>;
}

/** Same score for everything: quality switched off (its advantage is 0 in every group) or a placeholder. */
export function createConstantScorer(value = 0.5): QualityScorer {
  if (!(value >= 0 && value <= 1)) throw new Error(`constant quality score must be in [0, 1], got ${value}`);
  return { id: `constant:${value}`, score: async (items) => items.map(() => ({ score: value })) };
}

/** A scorer from a plain function of one item (tests, ablations such as "prefer distinct words"). */
export function createFunctionScorer(id: string, fn: (item: QualityItem) => number): QualityScorer {
  return { id, score: async (items) => items.map((item) => ({ score: fn(item) })) };
}

/** Score a batch and check the scorer kept its contract (one finite score in [0, 1] per item). */
export async function scoreQuality(scorer: QualityScorer, items: readonly QualityItem[]): Promise<QualityScore[]> {
  const scores = items.length === 0 ? [] : await scorer.score(items);
  if (!Array.isArray(scores) || scores.length !== items.length) {
    throw new Error(`quality scorer ${scorer.id} returned ${scores?.length} scores for ${items.length} items`);
  }
  scores.forEach((s, i) => {
    if (!(typeof s?.score === 'number' && s.score >= 0 && s.score <= 1)) {
      throw new Error(`quality scorer ${scorer.id}: item ${i} has score ${JSON.stringify(s?.score)}, expected a number in [0, 1]`);
    }
  });
  return scores;
}

/** Makes a scorer from the `quality.options` of a rewards config; validates its own options. */
export type QualityScorerFactory = (options: Record<string, unknown>) => QualityScorer;

const factories = createRegistry<QualityScorerFactory>('quality scorer');
export const registerQualityScorer = factories.register;
export const hasQualityScorer = factories.has;
export const qualityScorerNames = factories.names;
export function createQualityScorer(name: string, options: Record<string, unknown> = {}): QualityScorer {
  return factories.get(name)(options);
}

// its options come from a user's config: errors are UserErrors (a message, no stack trace), as the other scorers' are
registerQualityScorer('constant', (options) => {
  const unknown = Object.keys(options).filter((k) => k !== 'value');
  if (unknown.length) throw new UserError(`quality.options for "constant": unknown field(s) ${unknown.join(', ')} (valid: value)`);
  const value = options.value ?? 0.5;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw new UserError(`quality.options.value must be a number in [0, 1], got ${JSON.stringify(value)}`);
  return createConstantScorer(value);
});
