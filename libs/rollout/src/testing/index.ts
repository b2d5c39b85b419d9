// @lwz/rollout/testing: test helpers for code that drives the rollout engine without weights: a byte-level
// tokenizer with the template's added tokens, mock SlotModels (hash logits, scripted answers), and a small random
// Qwen2 config for tests that run the real model.
export { byteTokenizer, byteTokenizerJson } from './byte-tokenizer';
export { MockSlotModel, HashModel, ScriptModel } from './mock-model';
export { smallTestConfig } from './model-config';
