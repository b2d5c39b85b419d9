// @lwz/kernels/testing: helpers for tests only, kept out of the main entry point: the conformance harness
// that runs every backend against `ref`, seeded random arrays with float64 finite differences, and the
// hostless device other libraries' tests run on.
import '../index'; // registers the ref kernels the hostless device runs

export * from './conformance-harness';
export * from './numeric';
export { withHostlessDevice } from './hostless';
