// Packed token shards on disk: `<split>.bin` = concatenated token ids, little-endian uint16 (vocab <= 65536)
// or int32, each document followed by the end-of-text id; `index.json` = dtype, eot id, vocab size, tokenizer
// hash, and per split the token count and each document's [start, length) (length excludes the eot).
// The whole directory is written atomically. Not a streaming format: a split is read into memory whole.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, writeDirAtomic } from '@lwz/core';

export type ShardDType = 'uint16' | 'int32';

export interface ShardDoc {
  id: string;
  title: string;
  /** offset of the document's first token in the split */
  start: number;
  /** number of document tokens (the eot that follows is not counted) */
  length: number;
}

export interface ShardSplitIndex {
  file: string;
  /** total ids in the file, eot separators included */
  tokens: number;
  docs: ShardDoc[];
}

export interface ShardIndex {
  format: 'lwz-shards/1';
  dtype: ShardDType;
  eotId: number;
  vocabSize: number;
  /** identifies the tokenizer the ids belong to (e.g. a hash of tokenizer.json) */
  tokenizerHash: string;
  splits: Record<string, ShardSplitIndex>;
  /**
   * The pretraining window (tokens) the train split's format samples were placed for, each whole inside one: a
   * seqLen that is not a multiple of it cuts them (absent: no format samples)
   */
  formatWindow?: number;
}

export interface PackInput {
  id: string;
  title: string;
  ids: ArrayLike<number>;
}

/** Concatenate documents with an eot after each; ids are checked against the vocabulary. */
export function packSplit(docs: readonly PackInput[], eotId: number, vocabSize: number): { tokens: Int32Array; docs: ShardDoc[] } {
  let total = 0;
  for (const d of docs) total += d.ids.length + 1;
  const tokens = new Int32Array(total); // (N,) all documents, eot-separated
  const index: ShardDoc[] = [];
  let pos = 0;
  for (const d of docs) {
    for (let i = 0; i < d.ids.length; i++) {
      const id = d.ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
        throw new Error(`document ${d.id}: token id ${id} at ${i} is outside [0, ${vocabSize})`);
      tokens[pos + i] = id;
    }
    index.push({ id: d.id, title: d.title, start: pos, length: d.ids.length });
    pos += d.ids.length;
    tokens[pos++] = eotId;
  }
  return { tokens, docs: index };
}

function encodeIds(tokens: Int32Array, dtype: ShardDType): Uint8Array {
  const buf = Buffer.alloc(tokens.length * (dtype === 'uint16' ? 2 : 4));
  for (let i = 0; i < tokens.length; i++) {
    if (dtype === 'uint16') buf.writeUInt16LE(tokens[i], i * 2);
    else buf.writeInt32LE(tokens[i], i * 4);
  }
  return buf;
}

export interface ShardWriteInput {
  eotId: number;
  vocabSize: number;
  tokenizerHash: string;
  splits: Record<string, readonly PackInput[]>;
  formatWindow?: number;
}

/** The files a shard directory holds (index.json and a .bin per split): writeShards replaces only a folder of these. */
export const isShardFile = (name: string): boolean => name === 'index.json' || /^[a-z][a-z0-9_-]*\.bin$/.test(name);

/** Pack every split and write `dir` whole (index.json + one .bin per split), or leave the old dir untouched. */
export function writeShards(dir: string, input: ShardWriteInput): ShardIndex {
  if (!(Number.isInteger(input.eotId) && input.eotId >= 0 && input.eotId < input.vocabSize)) {
    throw new Error(`eot id ${input.eotId} is outside the vocabulary [0, ${input.vocabSize})`);
  }
  const dtype: ShardDType = input.vocabSize <= 65536 ? 'uint16' : 'int32';
  const index: ShardIndex = {
    format: 'lwz-shards/1',
    dtype,
    eotId: input.eotId,
    vocabSize: input.vocabSize,
    tokenizerHash: input.tokenizerHash,
    splits: {},
    ...(input.formatWindow !== undefined ? { formatWindow: input.formatWindow } : {}),
  };
  const packed = Object.entries(input.splits).map(([name, docs]) => {
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) throw new Error(`invalid split name ${JSON.stringify(name)}`);
    const p = packSplit(docs, input.eotId, input.vocabSize);
    index.splits[name] = { file: `${name}.bin`, tokens: p.tokens.length, docs: p.docs };
    return [name, p.tokens] as const;
  });
  // a shard directory of other splits is replaced too; anything else in it is refused (writeDirAtomic)
  writeDirAtomic(
    dir,
    (tmp) => {
      for (const [name, tokens] of packed) writeFileSync(join(tmp, `${name}.bin`), encodeIds(tokens, dtype));
      writeFileSync(join(tmp, 'index.json'), JSON.stringify(index) + '\n');
    },
    isShardFile,
  );
  return index;
}

export function readShardIndex(dir: string): ShardIndex {
  const path = join(dir, 'index.json');
  let index: ShardIndex;
  try {
    index = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: cannot read the shard index (${(e as Error).message}); run \`npx nx run data:prepare\``);
  }
  if (index.format !== 'lwz-shards/1')
    throw new UserError(`${path}: field "format" is ${JSON.stringify(index.format)}, expected "lwz-shards/1"`);
  return index;
}

/** Refuse shards made with another tokenizer (their ids would mean other tokens). */
export function checkTokenizerHash(dir: string, index: ShardIndex, tokenizerHash: string): void {
  if (index.tokenizerHash !== tokenizerHash) {
    throw new UserError(
      `${join(dir, 'index.json')}: the shards were tokenized with tokenizer ${index.tokenizerHash}, not this one (${tokenizerHash}); rebuild them with \`npx nx run data:prepare\` or pass the matching tokenizer`,
    );
  }
}

/** Load one split's ids into memory. `(N,)` int32, eot-separated. */
export function readShardTokens(dir: string, split: string, index = readShardIndex(dir)): Int32Array {
  const entry = index.splits[split];
  if (!entry) throw new UserError(`${dir}: no split "${split}"; the index has ${Object.keys(index.splits).join(', ')}`);
  const path = join(dir, entry.file);
  const bytes = readFileSync(path);
  const width = index.dtype === 'uint16' ? 2 : 4;
  if (bytes.length !== entry.tokens * width) {
    throw new UserError(
      `${path}: ${bytes.length} bytes, the index says ${entry.tokens} ${index.dtype} ids; rebuild with \`npx nx run data:prepare\``,
    );
  }
  const out = new Int32Array(entry.tokens);
  for (let i = 0; i < out.length; i++) out[i] = width === 2 ? bytes.readUInt16LE(i * 2) : bytes.readInt32LE(i * 4);
  return out;
}
