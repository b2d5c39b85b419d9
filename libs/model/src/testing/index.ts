// @lwz/model/testing: helpers for tests only: small model configs and random models, the independent
// float64 Qwen2 reference forward, and gradient-check probes. Not part of the main entry.
export * from './fixtures';
export * from './gradcheck';
export * from './reference-qwen2';
export * from './damage';
