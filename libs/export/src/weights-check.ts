// Checks that an in-memory set of Hugging Face-named weights is complete and correctly shaped for a config
// before any exporter touches it, so bad input fails with one clear message and no partial file.
// Not a loader: callers read the checkpoint (export-checkpoint.ts) and pass the tensors in.
import { UserError } from '@lwz/core';
import { parameterSpecs, type ModelConfig } from '@lwz/model';

/** HF tensor name -> values (row-major, HF shape) */
export type ExportWeights = ReadonlyMap<string, Float32Array>;

export type ExportDtype = 'f32' | 'f16';
export const EXPORT_DTYPES: readonly ExportDtype[] = ['f32', 'f16'];

export function checkExportDtype(dtype: string): ExportDtype {
  if (!(EXPORT_DTYPES as readonly string[]).includes(dtype)) {
    throw new UserError(`unsupported export dtype "${dtype}"; choose one of: ${EXPORT_DTYPES.join(', ')}`);
  }
  return dtype as ExportDtype;
}

/** Throw a UserError listing every missing or misshaped tensor (`source` names the checkpoint). */
export function checkExportWeights(config: ModelConfig, weights: ExportWeights, source: string): void {
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const spec of parameterSpecs(config)) {
    const w = weights.get(spec.name);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (!w) missing.push(spec.name);
    else if (w.length !== n) wrong.push(`${spec.name} has ${w.length} values, expected [${spec.shape.join(', ')}]`);
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, ... (${missing.length} in all)` : '');
    throw new UserError(`${source}: missing tensors ${shown}; the checkpoint does not match its config.json`);
  }
  if (wrong.length > 0) throw new UserError(`${source}: ${wrong.join('; ')}`);
}
