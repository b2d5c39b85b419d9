// The length a prompt asks for, for the reports' required-vs-actual plots: the row's `length` field
// (LongBench-Write, Arena-Write, generated prompts) when present, else the middle of the range that
// @lwz/rewards reads from the prompt text ("2000-2500 words", "不少于3000字"), else unknown.
import { parseLengthRequirement } from '@lwz/rewards';

export function requiredWords(prompt: string, fields: Readonly<Record<string, unknown>> = {}): number | undefined {
  const given = fields.length;
  if (typeof given === 'number' && Number.isFinite(given) && given > 0) return given;
  const parsed = parseLengthRequirement(prompt);
  if (!parsed) return undefined;
  const [lo, hi] = parsed.range;
  return hi > 0 ? (lo + hi) / 2 : undefined;
}
