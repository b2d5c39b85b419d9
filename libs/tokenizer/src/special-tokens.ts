// The special tokens our default tokenizer reserves, and what each is for. Turn markers follow the ChatML
// convention (<|im_start|>role ... <|im_end|>) that Qwen checkpoints use, so our templates also encode to
// single tokens with Qwen tokenizers. The think/answer tags are added tokens (never split by BPE) but not
// "special": decode with skipSpecialTokens keeps them, as Qwen3 does for <think>.

export const END_OF_TEXT = '<|endoftext|>';
export const TURN_START = '<|im_start|>';
export const TURN_END = '<|im_end|>';
export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';
export const ANSWER_OPEN = '<answer>';
export const ANSWER_CLOSE = '</answer>';

export interface SpecialTokenSpec {
  content: string;
  /** true: a control token (dropped by decode with skipSpecialTokens); false: a structural tag kept in text */
  special: boolean;
}

/** In id order after the BPE vocab: <|endoftext|> is the first id past the merges, and so on. */
export const DEFAULT_SPECIAL_TOKENS: readonly SpecialTokenSpec[] = [
  { content: END_OF_TEXT, special: true },
  { content: TURN_START, special: true },
  { content: TURN_END, special: true },
  { content: THINK_OPEN, special: false },
  { content: THINK_CLOSE, special: false },
  { content: ANSWER_OPEN, special: false },
  { content: ANSWER_CLOSE, special: false },
];
