// Length predictors by name, for configs: `length.predictor: {name, options}`. The built-in feature predictor
// registers here as "builtin"; libs/judges registers its LLM predictor the same way.
import { UserError, createRegistry, z } from '@lwz/core';
import { DEFAULT_BUILTIN_PREDICTOR_OPTIONS, createBuiltinLengthPredictor } from './builtin-predictor';
import type { LengthPredictor } from './predictor';

/** Makes a predictor from `length.predictor.options`; validates its own options. */
export type LengthPredictorFactory = (options: Record<string, unknown>) => LengthPredictor;

const factories = createRegistry<LengthPredictorFactory>('length predictor');
export const registerLengthPredictor = factories.register;
export const hasLengthPredictor = factories.has;
export const lengthPredictorNames = factories.names;
export function createLengthPredictor(name: string, options: Record<string, unknown> = {}): LengthPredictor {
  return factories.get(name)(options);
}

const d = DEFAULT_BUILTIN_PREDICTOR_OPTIONS;
const range = z.tuple([z.number().int().min(0), z.number().int().min(0)]);
const builtinOptionsSchema = z
  .object({
    rules: z
      .object({ step: z.number().int().positive(), maxHi: z.number().int().positive(), maxWidth: z.number().int().positive() })
      .strict()
      .default(d.rules),
    defaultRange: range.default(d.defaultRange),
    wordsPerPage: z.number().positive().default(d.wordsPerPage),
    wordsPerParagraph: z.number().positive().default(d.wordsPerParagraph),
    wordsPerSentence: z.number().positive().default(d.wordsPerSentence),
    shortFactor: z.number().positive().default(d.shortFactor),
    detailedFactor: z.number().positive().default(d.detailedFactor),
  })
  .strict();

registerLengthPredictor('builtin', (options) => {
  const parsed = builtinOptionsSchema.safeParse(options);
  if (!parsed.success) {
    // an options error is the user's config: named without a stack trace (an unknown key's issue has an empty path)
    const issues = parsed.error.issues.map((i) => `length.predictor.options${i.path.map((k) => `.${String(k)}`).join('')}: ${i.message}`);
    throw new UserError(`builtin length predictor: ${issues.join('; ')}`);
  }
  return createBuiltinLengthPredictor(parsed.data);
});
