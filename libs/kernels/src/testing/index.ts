// @lwz/kernels/testing: helpers for tests only: the conformance harness that runs every backend against
// `ref`, and seeded random arrays with float64 finite differences. Not part of the main entry.
export * from './conformance-harness';
export * from './numeric';
