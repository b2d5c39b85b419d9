// @lwz/tokenizer: Hugging Face byte-level BPE tokenizers (load, encode, decode, stream, train), prompt
// templates with their completion parser, and the one word counter rewards and eval share.
export { Tokenizer, type EncodeOptions, type DecodeOptions } from './tokenizer';
export { StreamDecoder } from './stream-decoder';
export type { AddedToken } from './added-tokens';
export type { TokenizerConfig } from './tokenizer-config';
