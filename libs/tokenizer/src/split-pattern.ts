// The pre-tokenizer split pattern of Qwen2/Qwen2.5/Qwen3 tokenizer.json files, shared by BPE training
// (train-bpe.ts counts pre-tokens with it) and the tokenizer.json writer (tokenizer-json.ts), so neither
// imports the other.

/** Single digits, contractions, punctuation runs, newline runs, as Qwen2's tokenizer.json writes the regex. */
export const QWEN2_SPLIT_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
