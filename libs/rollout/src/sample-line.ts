// One answer as a CONTRACTS.md sample line: {id, sample_index, prompt, response, think, answer,
// answer_words, tokens, token_ids, finish_reason} plus every field of the prompt row carried through (ours
// win on a name clash). think/answer come from the template's parser, answer_words from the shared word
// counter. Not the file handling (sample-file.ts).
import type { PromptRow } from '@lwz/data';
import { countWords, parseCompletion, type TemplateName } from '@lwz/tokenizer';
import type { Completion } from './types';

/** `prefill` is what the chat template wrote of the assistant turn (RenderedPrompt.prefill): the response starts with it. */
export function sampleLine(row: PromptRow, c: Completion, template: TemplateName, prefill = ''): Record<string, unknown> {
  const response = prefill + c.text;
  const parsed = parseCompletion(response, template);
  return {
    ...row.fields,
    id: row.id,
    sample_index: c.sampleIndex,
    prompt: row.prompt,
    response,
    think: parsed.think,
    answer: parsed.answer,
    answer_words: countWords(parsed.answer ?? ''),
    tokens: c.tokenIds.length,
    token_ids: c.tokenIds,
    finish_reason: c.finishReason,
  };
}
