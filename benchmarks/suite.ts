// The suite format for benchmarks/<lib>/<suite>.bench.ts files: re-exported from the runner that owns it
// (apps/bench-runner/src/suite-format.ts), so suites import '../suite' and never reach into the app.
export * from '../apps/bench-runner/src/suite-format';
