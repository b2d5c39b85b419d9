// @lwz/rollout/testing: test helpers for code that drives the rollout engine without weights: a byte-level
// tokenizer with the template's added tokens, and mock SlotModels (hash logits, scripted answers).
export { byteTokenizer, byteTokenizerJson } from './byte-tokenizer';
export { MockSlotModel, HashModel, ScriptModel } from './mock-model';
