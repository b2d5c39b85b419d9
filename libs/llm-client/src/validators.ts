// Generic reply validators for askUntilValid: find the last JSON object in a model's reply (prose, code
// fences and nested objects around it allowed) and check it with a zod schema. Judge-specific formats
// (verdict labels, rubric prompts) live with the judges.
import { findLastJsonObject, type z } from '@lwz/core';
import type { Validator } from './ask-until-valid';

/** The JSON object that ends last in `text` (the outermost one there), or undefined when none parses or when a
 *  block after it looks like JSON but does not parse (core's findLastJsonObject). */
export function lastJsonObject(text: string): Record<string, unknown> | undefined {
  const found = findLastJsonObject(text);
  return found?.ok ? found.value : undefined;
}

/** A validator accepting replies whose last JSON object matches `schema`, e.g. `{score, reason}`. A final object
 *  that does not parse is a rejection, not a reason to take an earlier draft. */
export function jsonReply<S extends z.ZodType>(schema: S): Validator<z.output<S>> {
  return (reply) => {
    const found = findLastJsonObject(reply);
    if (found === undefined) return { ok: false, reason: 'the reply holds no JSON object' };
    if (!found.ok) return { ok: false, reason: found.reason };
    const parsed = schema.safeParse(found.value);
    if (parsed.success) return { ok: true, value: parsed.data };
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { ok: false, reason: `the JSON does not fit: ${issues}` };
  };
}
