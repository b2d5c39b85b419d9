// The format reward: 1 - repetition penalty when the completion has the template's structure (think: exactly
// one <think>...</think> then exactly one <answer>...</answer>; direct: exactly one <answer>...</answer>),
// with nothing but whitespace and stop markers around the blocks (@lwz/tokenizer's parseCompletion); 0 when
// the structure is broken. An empty answer is broken (nothing was written); an empty think block is not (the
// paper checks structure, not the plan). An unclosed answer (cut at the length cap) is broken. Repetition is
// measured on the answer only: the answer is what the length reward pays for, so that is where padding goes.
import { type CompletionViolation, type TemplateName, parseCompletion } from '@lwz/tokenizer';
import { type RepetitionMeasures, type RepetitionOptions, measureRepetition } from './repetition';

export interface FormatVerdict {
  valid: boolean;
  /** stable codes (tokenizer's COMPLETION_VIOLATIONS), in the order found */
  codes: CompletionViolation[];
  /** the same violations as sentences */
  violations: string[];
}

export interface FormatResult {
  /** valid ? 1 - repetition.penalty : 0, in [0, 1] */
  reward: number;
  verdict: FormatVerdict;
  repetition: RepetitionMeasures;
  /** the answer text ('' when there is no answer block) */
  answer: string;
  think: string | null;
}

export function formatReward(completion: string, template: TemplateName, repetition: RepetitionOptions): FormatResult {
  const parsed = parseCompletion(completion, template);
  const answer = parsed.answer ?? '';
  const measures = measureRepetition(answer, repetition);
  return {
    reward: parsed.valid ? 1 - measures.penalty : 0,
    verdict: { valid: parsed.valid, codes: parsed.codes, violations: parsed.violations },
    repetition: measures,
    answer,
    think: parsed.think,
  };
}

/** Batched: completions (B*G,) -> results (B*G,). */
export function formatRewards(completions: readonly string[], template: TemplateName, repetition: RepetitionOptions): FormatResult[] {
  return completions.map((c) => formatReward(c, template, repetition));
}
