// @lwz/rollout/testing: test helpers for code that drives the rollout engine without weights: a byte-level
// tokenizer with the template's added tokens, mock SlotModels (hash logits, scripted answers), a small random Qwen2
// config for tests that run the real model, and slower engine steps so that requests stay in flight.
export { byteTokenizer, byteTokenizerJson } from './byte-tokenizer';
export { MockSlotModel, HashModel, ScriptModel } from './mock-model';
export { smallTestConfig } from './model-config';
export { slowSteps } from './slow-engine';
