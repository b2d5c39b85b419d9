// @lwz/kernels/testing: helpers for other libraries' tests, kept out of the main entry point.
import '../index'; // registers the ref kernels the hostless device runs

export { withHostlessDevice } from './hostless';
