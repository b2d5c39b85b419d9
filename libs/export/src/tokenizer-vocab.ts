// The tokenizer part of a GGUF file, read from a Hugging Face byte-level BPE `tokenizer.json`: tokens in id
// order with llama.cpp token types, merges as "a b" strings, and the special ids. Padding rows of a model
// vocabulary larger than the tokenizer become "[PAD<i>]" tokens of type UNUSED, as llama.cpp's converter does.
// Not a tokenizer: no encoding here (@lwz/tokenizer does that); only BPE models are accepted.
import { UserError } from '@lwz/core';

/** llama.cpp's llama_token_type */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface GgufVocab {
  tokens: string[]; // (V,)
  tokenTypes: number[]; // (V,)
  merges: string[];
  /** content -> id for added tokens (for resolving special-token names) */
  added: Map<string, number>;
}

type Raw = Record<string, unknown>;

function mergeString(m: unknown, source: string, i: number): string {
  if (typeof m === 'string') return m;
  if (Array.isArray(m) && m.length === 2 && m.every((p) => typeof p === 'string')) return `${m[0]} ${m[1]}`;
  throw new UserError(`${source}: model.merges[${i}] must be "a b" or ["a", "b"], got ${JSON.stringify(m)}`);
}

/** Read the vocabulary of a tokenizer.json object for a model with `vocabSize` rows. */
export function vocabFromTokenizerJson(json: unknown, vocabSize: number, source = 'tokenizer.json'): GgufVocab {
  const root = json as Raw | null;
  const model = root?.model as Raw | undefined;
  if (!model || typeof model !== 'object') throw new UserError(`${source}: has no "model" object; is it a Hugging Face tokenizer.json?`);
  if (model.type !== 'BPE') {
    throw new UserError(`${source}: model.type is ${JSON.stringify(model.type)}; GGUF export supports byte-level "BPE" tokenizers only`);
  }
  const vocab = model.vocab as Record<string, unknown> | undefined;
  if (!vocab || typeof vocab !== 'object') throw new UserError(`${source}: model.vocab is missing`);
  const byId = new Map<number, { text: string; type: number }>();
  for (const [text, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id)) throw new UserError(`${source}: model.vocab["${text}"] must be an integer id`);
    byId.set(id as number, { text, type: TokenType.NORMAL });
  }
  const added = new Map<string, number>();
  const addedList = Array.isArray(root?.added_tokens) ? (root.added_tokens as Raw[]) : [];
  for (const [i, t] of addedList.entries()) {
    if (typeof t.content !== 'string' || !Number.isInteger(t.id)) {
      throw new UserError(`${source}: added_tokens[${i}] needs an integer "id" and a string "content"`);
    }
    byId.set(t.id as number, { text: t.content, type: t.special === true ? TokenType.CONTROL : TokenType.USER_DEFINED });
    added.set(t.content, t.id as number);
  }
  let n = 0; // one past the largest id (a loop: spreading 150k ids into Math.max overflows the call stack)
  for (const id of byId.keys()) if (id + 1 > n) n = id + 1;
  if (n > vocabSize) {
    throw new UserError(
      `${source}: has ids up to ${n - 1} but the model's vocab_size is ${vocabSize}; use the tokenizer the model was trained with`,
    );
  }
  const tokens: string[] = [];
  const tokenTypes: number[] = [];
  for (let id = 0; id < vocabSize; id++) {
    const t = byId.get(id);
    if (!t && id < n) throw new UserError(`${source}: token id ${id} is missing (ids must be contiguous from 0)`);
    tokens.push(t ? t.text : `[PAD${id}]`);
    tokenTypes.push(t ? t.type : TokenType.UNUSED);
  }
  const rawMerges = Array.isArray(model.merges) ? model.merges : [];
  const merges = rawMerges.map((m, i) => mergeString(m, source, i));
  return { tokens, tokenTypes, merges, added };
}
