// The few tokenizer_config.json fields we use: the chat template (a string, or a list of named templates of
// which "default" is taken; newer transformers save it as chat_template.jinja beside the file instead, which
// Tokenizer.fromFile reads) and the bos/eos token names it refers to. Everything else in the file is ignored.
import { UserError } from '@lwz/core';

export interface TokenizerConfig {
  chatTemplate?: string;
  bosToken?: string;
  eosToken?: string;
}

function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  return undefined;
}

export function parseTokenizerConfig(raw: unknown): TokenizerConfig {
  if (raw === null || typeof raw !== 'object') throw new UserError('tokenizer_config.json: expected a JSON object');
  const c = raw as Record<string, unknown>;
  let chatTemplate: string | undefined;
  if (typeof c.chat_template === 'string') chatTemplate = c.chat_template;
  else if (Array.isArray(c.chat_template)) {
    const named = c.chat_template as { name?: string; template?: string }[];
    chatTemplate = named.find((t) => t.name === 'default')?.template;
    if (chatTemplate === undefined) {
      // transformers refuses to pick one too; falling back to ChatML would train on turns the model never saw
      const names = named.map((t) => JSON.stringify(t.name)).join(', ');
      throw new UserError(
        `tokenizer_config.json: chat_template lists templates ${names} but none named "default": add one named "default" (a copy of the one to use)`,
      );
    }
  }
  return { chatTemplate, bosToken: tokenName(c.bos_token), eosToken: tokenName(c.eos_token) };
}
