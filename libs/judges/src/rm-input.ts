// What a reward model reads: one rule shared by `train-rm` (apps/trainer), the built-in RM scorer and the
// ONNX RM scorer, so a score means the same thing everywhere. The text is the answer alone (the <answer>
// block when there is one), encoded without specials and closed by the end-of-text token, the token that ends
// every document in pretraining; the value head reads the hidden state there. The second rule, for RMs trained
// on prompt + answer chats (most Hugging Face RMs; the ONNX scorer's `input: chat`), renders the two turns with
// the RM tokenizer's own chat template, as transformers' apply_chat_template does.
import { UserError } from '@lwz/core';
import { renderChatTemplate, type Tokenizer } from '@lwz/tokenizer';

/** Part of every RM scorer id: changes whenever the rule below changes. */
export const RM_INPUT_VERSION = 'rm-input/1';
/** The same for the chat rule (rmChatInputIds). */
export const RM_CHAT_INPUT_VERSION = 'rm-chat/1';

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
  return rmInput(tokenizer, text, endId, maxTokens).ids;
}

/** What the RM reads for one item, and whether that is only its head. */
export interface RmInput {
  ids: number[];
  /** the text was longer than the window, so its tail was left out */
  cut: boolean;
}

/** rmInputIds, saying whether the text was cut to fit. */
export function rmInput(tokenizer: Tokenizer, text: string, endId: number, maxTokens: number): RmInput {
  if (!(Number.isInteger(maxTokens) && maxTokens >= 2)) throw new Error(`rmInputIds: maxTokens must be an integer >= 2, got ${maxTokens}`);
  const ids = tokenizer.encode(text, { addSpecialTokens: false });
  const cut = ids.length > maxTokens - 1;
  if (cut) ids.length = maxTokens - 1;
  ids.push(endId);
  return { ids, cut };
}

/**
 * Token ids for a (prompt, answer) chat: the tokenizer's chat_template over [user: prompt, assistant: answer]
 * without a generation prompt, encoded without specials (the template writes any it wants), at most
 * `maxTokens` long (the head is kept, so an answer past the RM's window reads as cut short). A tokenizer
 * without a chat template is a UserError naming its tokenizer_config.json.
 */
export function rmChatInputIds(tokenizer: Tokenizer, prompt: string, answer: string, maxTokens: number): number[] {
  return rmChatInput(tokenizer, prompt, answer, maxTokens).ids;
}

/** rmChatInputIds, saying whether the chat was cut to fit. */
export function rmChatInput(tokenizer: Tokenizer, prompt: string, answer: string, maxTokens: number): RmInput {
  if (!(Number.isInteger(maxTokens) && maxTokens >= 2))
    throw new Error(`rmChatInputIds: maxTokens must be an integer >= 2, got ${maxTokens}`);
  const { chatTemplate, bosToken, eosToken } = tokenizer.config;
  if (!chatTemplate) {
    throw new UserError(
      'reward model input "chat": the tokenizer has no chat_template (tokenizer_config.json beside tokenizer.json); ' +
        'add the model\'s tokenizer_config.json, or use input "answer"',
    );
  }
  const messages = [
    { role: 'user' as const, content: prompt },
    { role: 'assistant' as const, content: answer },
  ];
  const text = renderChatTemplate(chatTemplate, messages, { addGenerationPrompt: false, bosToken, eosToken });
  const ids = tokenizer.encode(text, { addSpecialTokens: false });
  const cut = ids.length > maxTokens;
  if (cut) ids.length = maxTokens;
  return { ids, cut };
}
