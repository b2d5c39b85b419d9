// @lwz/judges/testing: a deterministic fake judge for the local test LLM server, for the tests of the
// judges, eval and judge-arena. Not for library code.
export { fakeJudgeResponder, hashQuality, type FakeJudgeOptions } from './fake-judge';
