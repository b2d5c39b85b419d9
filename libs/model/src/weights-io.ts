// Checkpoint weights on disk: `model.safetensors`, or shards listed by `model.safetensors.index.json`
// ({metadata: {total_size}, weight_map: {tensor: shard file}}), the two layouts Hugging Face uses.
// Reading opens headers only and streams each tensor into its destination on demand; writing streams.
// Not the tensor naming (checkpoint.ts) nor the config (config.ts).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError, writeJsonAtomic } from '@lwz/core';
import {
  dtypeBytes,
  readEntryInto,
  readSafetensorsHeader,
  writeSafetensors,
  type StDtype,
  type StEntry,
  type StTensor,
} from './safetensors';

export const WEIGHTS_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
const SHARD_FILE = /^model-\d+-of-\d+\.safetensors$/; // writeWeights's shard names (Hugging Face's)

/** A file name writeWeights makes in some layout: the single file, the shard index, or a shard. */
export function isWeightsFile(name: string): boolean {
  return name === WEIGHTS_FILE || name === INDEX_FILE || SHARD_FILE.test(name);
}

/** Whether `dir` holds checkpoint weights in either layout. */
export function hasWeights(dir: string): boolean {
  return existsSync(join(dir, WEIGHTS_FILE)) || existsSync(join(dir, INDEX_FILE));
}

export interface WeightSource {
  /** every tensor name in the checkpoint */
  names(): string[];
  entry(name: string): (StEntry & { path: string }) | undefined;
  /** stream a tensor's values into `dest` (f32); throws a UserError naming the tensor if it is absent */
  readInto(name: string, dest: Float32Array): void;
}

function readIndex(dir: string): Map<string, string> {
  const path = join(dir, INDEX_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: cannot read the shard index (${(e as Error).message})`);
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map)) {
    throw new UserError(`${path}: field "weight_map" is missing or not an object {tensor name: shard file}`);
  }
  const out = new Map<string, string>();
  for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
    if (typeof file !== 'string' || file !== basename(file)) {
      throw new UserError(`${path}: weight_map["${name}"] must be a file name in the same directory, got ${JSON.stringify(file)}`);
    }
    out.set(name, file);
  }
  return out;
}

/** Open the weights of the checkpoint directory `dir` (single file or sharded). */
export function openWeights(dir: string): WeightSource {
  const entries = new Map<string, StEntry & { path: string }>();
  const single = join(dir, WEIGHTS_FILE);
  const sharded = existsSync(join(dir, INDEX_FILE));
  if (sharded && existsSync(single)) {
    // transformers loads the single file, vLLM the shards: which weights are meant cannot be told
    throw new UserError(
      `${dir}: holds both ${WEIGHTS_FILE} and ${INDEX_FILE} (Hugging Face transformers would load the first, vLLM the shards); delete the stale one`,
    );
  }
  if (sharded) {
    const index = readIndex(dir);
    const headers = new Map<string, ReturnType<typeof readSafetensorsHeader>>();
    for (const [name, file] of index) {
      let h = headers.get(file);
      if (!h) {
        h = readSafetensorsHeader(join(dir, file));
        headers.set(file, h);
      }
      const e = h.entries.get(name);
      if (!e) throw new UserError(`${join(dir, INDEX_FILE)}: maps "${name}" to ${file}, but that shard has no such tensor`);
      entries.set(name, { ...e, path: h.path });
    }
  } else if (existsSync(single)) {
    const h = readSafetensorsHeader(single);
    for (const [name, e] of h.entries) entries.set(name, { ...e, path: h.path });
  } else {
    throw new UserError(`${dir}: no ${WEIGHTS_FILE} or ${INDEX_FILE}; is this a Hugging Face checkpoint directory?`);
  }
  return {
    names: () => [...entries.keys()],
    entry: (name) => entries.get(name),
    readInto(name, dest) {
      const e = entries.get(name);
      if (!e) throw new UserError(`${dir}: checkpoint has no tensor "${name}"`);
      readEntryInto(e.path, e, dest);
    },
  };
}

export interface WriteWeightsOptions {
  dtype?: StDtype;
  /** split into shards of at most this many bytes (Hugging Face naming) when the total exceeds it */
  maxShardBytes?: number;
}

/** Write tensors into `dir` as model.safetensors, or as shards + index when maxShardBytes is exceeded. */
export function writeWeights(dir: string, tensors: readonly StTensor[], opts: WriteWeightsOptions = {}): void {
  const dtype = opts.dtype ?? 'F32';
  const bytes = (t: StTensor): number => t.shape.reduce((a, b) => a * b, 1) * dtypeBytes(dtype);
  const total = tensors.reduce((a, t) => a + bytes(t), 0);
  const max = opts.maxShardBytes ?? Infinity;
  if (total <= max) {
    writeSafetensors(join(dir, WEIGHTS_FILE), tensors, { dtype });
    return;
  }
  const shards: StTensor[][] = [[]];
  let size = 0;
  for (const t of tensors) {
    if (size > 0 && size + bytes(t) > max) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(t);
    size += bytes(t);
  }
  const pad = (i: number): string => String(i).padStart(5, '0');
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    const file = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    writeSafetensors(join(dir, file), shard, { dtype });
    for (const t of shard) weightMap[t.name] = file;
  });
  writeJsonAtomic(join(dir, INDEX_FILE), { metadata: { total_size: total }, weight_map: weightMap });
}
