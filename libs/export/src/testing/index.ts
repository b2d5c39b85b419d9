// @lwz/export/testing: fixtures for tests only: a tiny random Qwen2/Llama checkpoint on disk with a small
// byte-level tokenizer.json, and @lwz/model's logits to compare exported models with.
export * from './fixtures';
