// @lwz/tokenizer: Hugging Face byte-level BPE tokenizers (load, encode, decode, stream, train), prompt
// templates with their completion parser, and the one word counter rewards and eval share.
export { Tokenizer, readTokenizerConfig, type EncodeOptions, type DecodeOptions, type TokenizerOptions } from './tokenizer';
export { StreamDecoder } from './stream-decoder';
export type { AddedToken } from './added-tokens';
export type { TokenizerConfig } from './tokenizer-config';
export { trainBpe, type TrainBpeOptions, type TrainedBpe } from './train-bpe';
export { toTokenizerJson, toTokenizerConfig, CHATML_CHAT_TEMPLATE } from './tokenizer-json';
export { QWEN2_SPLIT_PATTERN } from './split-pattern';
export { GPT2_SPLIT_PATTERN } from './components';
export {
  DEFAULT_SPECIAL_TOKENS,
  END_OF_TEXT,
  TURN_START,
  TURN_END,
  THINK_OPEN,
  THINK_CLOSE,
  ANSWER_OPEN,
  ANSWER_CLOSE,
  type SpecialTokenSpec,
} from './special-tokens';
export {
  THINK_TEMPLATE,
  DIRECT_TEMPLATE,
  TEMPLATE_NAMES,
  getTemplate,
  renderPrompt,
  renderPromptFor,
  openedThink,
  renderChatML,
  renderChatTemplate,
  type TemplateName,
  type PromptTemplate,
  type ChatMessage,
  type ChatTemplateOptions,
  type RenderedPrompt,
} from './templates';
export { parseCompletion, COMPLETION_VIOLATIONS, type CompletionViolation, type ParsedCompletion } from './completion-parser';
export { countWords, splitWords, withoutInvisible } from './word-count';
