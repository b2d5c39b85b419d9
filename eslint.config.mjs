// One linter for the whole workspace. Module boundaries follow ARCHITECTURE.md: apps -> feature libs
// (training, rollout, eval) -> domain libs -> kernels -> core, with report a util beside core. Every
// allowed edge between libraries is written out below, one row per scope; anything else is a lint error.
// Import cycles: between projects @nx/enforce-module-boundaries reports them, inside one project
// tools/eslint/no-import-cycle.mjs does.
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import noImportCycle from './tools/eslint/no-import-cycle.mjs';

/** scope -> the scopes it may import (its own files aside). Rows for libs still to come keep their place. */
const ALLOWED = {
  core: [],
  report: ['core'],
  kernels: ['core'],
  tokenizer: ['core'],
  model: ['kernels', 'core'],
  export: ['model', 'tokenizer', 'kernels', 'core'],
  optimizer: ['kernels', 'core'], // AdamW, schedules, clipping, policy losses, loss aggregation
  'llm-client': ['core'], // OpenAI-compatible HTTP client
  rewards: ['tokenizer', 'core'], // pure: the QualityScorer interface is implemented higher up
  data: ['rewards', 'tokenizer', 'core'],
  judges: ['rewards', 'llm-client', 'model', 'export', 'tokenizer', 'kernels', 'core'], // export: OrtWorker runs the onnx-rm scorer's exported score graph
  training: ['model', 'optimizer', 'kernels', 'report', 'core'],
  rollout: ['model', 'tokenizer', 'kernels', 'llm-client', 'data', 'core'],
  eval: ['judges', 'rewards', 'tokenizer', 'llm-client', 'data', 'report', 'core'],
  tools: [],
};

export const depConstraints = [
  ...Object.entries(ALLOWED).map(([scope, deps]) => ({
    sourceTag: `scope:${scope}`,
    onlyDependOnLibsWithTags: deps.map((d) => `scope:${d}`),
  })),
  // apps may use any library, never another app (nor the workspace tools)
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:domain', 'type:kernel', 'type:util'] },
];

const nativeLoad = {
  selector: "CallExpression[callee.name='require'][arguments.0.value=/\\.node$/]",
  message: 'Only libs/kernels/src/*/native*.ts may load a native addon.',
};
const createRequireUse = {
  selector: "ImportSpecifier[imported.name='createRequire']",
  message: 'createRequire is how native addons get loaded: only libs/kernels/src/*/native*.ts may use it.',
};
// Only libs/kernels names a device: code elsewhere takes a Device value (defaultDevice(), a tensor's
// .device, a config field checked against DEVICES) and never branches on one. Tests, which pick backends
// to compare against `ref`, are exempt (below).
const deviceLiteral = {
  selector: 'Literal[value=/^(ref|cpu|cuda)$/]',
  message:
    "Only libs/kernels names a device ('ref', 'cpu', 'cuda'): take a Device value (defaultDevice(), tensor.device, DEVICES from @lwz/kernels) instead of a literal.",
};
// On the per-token path (every op call, every decode step), no object spread followed by more properties
// (`{ ...args, out }`): Node 20's V8 builds those on a slow path, 3.5 us each against 0.1 us for
// Object.assign(args, { out }) or the properties written out (benchmarks/README.md, #10).
const spreadThenProperty = {
  selector: 'ObjectExpression:has(> SpreadElement ~ Property)',
  message:
    'Per-call code: `{ ...a, b }` takes V8 (Node 20) a slow path (3.5 us a call); use Object.assign(a, { b }) on an object of your own, or write the properties out.',
};
// The kernel registry is internal to libs/kernels: everything else calls the checked ops.
const kernelInternals = {
  paths: [
    {
      name: '@lwz/kernels',
      importNames: ['getKernel', 'registerKernel'],
      message: 'Call the checked ops of @lwz/kernels (matmul, copy, fill, ... with `out`) instead of raw kernels.',
    },
  ],
  patterns: [
    {
      group: ['@lwz/kernels/*', '!@lwz/kernels/testing'],
      message: 'Import @lwz/kernels through its entry point (its registry is internal).',
    },
  ],
};

export default [
  { ignores: ['**/node_modules', '**/dist', '**/build', '**/.nx', '**/tmp', '**/runs', '**/coverage'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  prettier,
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    plugins: { lwz: { rules: { 'no-import-cycle': noImportCycle } } },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: false,
          checkNestedExternalImports: true,
          allow: [],
          depConstraints,
        },
      ],
      'max-lines': ['error', { max: 500, skipBlankLines: true, skipComments: true }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
      'no-restricted-syntax': ['error', nativeLoad, createRequireUse],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'lwz/no-import-cycle': 'error',
    },
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    ignores: ['libs/kernels/**'],
    rules: {
      'no-restricted-syntax': ['error', nativeLoad, createRequireUse, deviceLiteral],
      'no-restricted-imports': ['error', kernelInternals],
    },
  },
  {
    // tests pick backends (and compare them with `ref`) by name; test helpers under src/testing too
    files: ['**/*.test.ts', '**/src/testing/**'],
    rules: { 'no-restricted-syntax': ['error', nativeLoad, createRequireUse] },
  },
  {
    files: ['libs/kernels/src/ops/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-syntax': ['error', nativeLoad, createRequireUse, spreadThenProperty] },
  },
  {
    files: ['libs/model/src/kv-cache.ts', 'libs/model/src/layer.ts'],
    rules: { 'no-restricted-syntax': ['error', nativeLoad, createRequireUse, deviceLiteral, spreadThenProperty] },
  },
  {
    files: ['**/jest.config.js'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    files: ['libs/kernels/src/*/native*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // CLIs and the benchmark runner talk to the terminal on purpose
    files: ['apps/**/*.ts', 'tools/**/*.mjs', 'benchmarks/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
];
