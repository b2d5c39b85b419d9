// What a reward model reads: one rule shared by `train-rm` (apps/trainer), the built-in RM scorer and the
// ONNX RM scorer, so a score means the same thing everywhere. The text is the answer alone (the <answer>
// block when there is one), encoded without specials and closed by the end-of-text token, the token that ends
// every document in pretraining; the value head reads the hidden state there. Not a chat template: an RM
// trained on prompt + answer chats (most Hugging Face RMs) needs its own input rule (the ONNX scorer's option).
import type { Tokenizer } from '@lwz/tokenizer';

/** Part of every RM scorer id: changes whenever the rule below changes. */
export const RM_INPUT_VERSION = 'rm-input/1';

/** The end-of-text id: the config's eos (the first of a list), else the tokenizer's `<|endoftext|>`. */
export function rmEndId(tokenizer: Tokenizer, eosTokenId?: number | readonly number[]): number {
  const eos = Array.isArray(eosTokenId) ? eosTokenId[0] : eosTokenId;
  const id = typeof eos === 'number' ? eos : tokenizer.tokenToId('<|endoftext|>');
  if (id === undefined) {
    throw new Error('reward model input: the config has no eos_token_id and the tokenizer no <|endoftext|> token to end the text with');
  }
  return id;
}

/**
 * Token ids for one answer: encode(text) + [endId], at most `maxTokens` long. A longer text keeps its first
 * maxTokens - 1 tokens (the end id always closes it), so an answer past the RM's window reads as cut short.
 */
export function rmInputIds(tokenizer: Tokenizer, text: string, endId: number, maxTokens: number): number[] {
  if (!(Number.isInteger(maxTokens) && maxTokens >= 2)) throw new Error(`rmInputIds: maxTokens must be an integer >= 2, got ${maxTokens}`);
  const ids = tokenizer.encode(text, { addSpecialTokens: false });
  if (ids.length > maxTokens - 1) ids.length = maxTokens - 1;
  ids.push(endId);
  return ids;
}
