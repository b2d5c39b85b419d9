// Generic reply validators for askUntilValid: find the last JSON object in a model's reply (prose, code
// fences and nested objects around it allowed) and check it with a zod schema. Judge-specific formats
// (verdict labels, rubric prompts) live with the judges.
import { balancedObjectEnd, type z } from '@lwz/core';
import type { Validator } from './ask-until-valid';

/** The JSON object that ends last in `text` (the outermost one there), or undefined when none parses. */
export function lastJsonObject(text: string): Record<string, unknown> | undefined {
  let best: { start: number; end: number; value: Record<string, unknown> } | undefined;
  for (let start = text.indexOf('{'); start >= 0; start = text.indexOf('{', start + 1)) {
    const end = balancedObjectEnd(text, start);
    if (end < 0 || (best && end <= best.end)) continue;
    try {
      const value: unknown = JSON.parse(text.slice(start, end));
      if (value && typeof value === 'object' && !Array.isArray(value)) best = { start, end, value: value as Record<string, unknown> };
    } catch {
      // not JSON: prose in braces
    }
  }
  return best?.value;
}

/** A validator accepting replies whose last JSON object matches `schema`, e.g. `{score, reason}`. */
export function jsonReply<S extends z.ZodType>(schema: S): Validator<z.output<S>> {
  return (reply) => {
    const obj = lastJsonObject(reply);
    if (obj === undefined) return { ok: false, reason: 'the reply holds no JSON object' };
    const parsed = schema.safeParse(obj);
    if (parsed.success) return { ok: true, value: parsed.data };
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { ok: false, reason: `the JSON does not fit: ${issues}` };
  };
}
