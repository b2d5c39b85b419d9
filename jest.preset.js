// Shared jest settings: native ESM TypeScript through swc (no type check here: `typecheck` does that),
// plus our numeric matchers from jest.setup.ts, the host pool's poison mode (jest.poison.ts) and our own GEMM paths
// whatever BLAS or tuning table the machine has (jest.env.ts).
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  setupFiles: [`${root}jest.poison.ts`, `${root}jest.env.ts`],
  setupFilesAfterEnv: [`${root}jest.setup.ts`],
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  testTimeout: 60000,
};
