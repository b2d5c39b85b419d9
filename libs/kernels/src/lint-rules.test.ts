// The workspace lint rules that keep libs/kernels the only way into the kernels (eslint.config.mjs): outside
// libs/kernels, importing getKernel/registerKernel or a deep path of @lwz/kernels, and naming a device with a
// string literal, are errors; tests may name devices; libs/kernels itself may do both. Runs ESLint's API
// on snippets placed at chosen paths (module-boundary checks off: they need the Nx project graph).
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const eslint = new ESLint({ cwd: root, overrideConfig: { rules: { '@nx/enforce-module-boundaries': 'off' } } });

async function messages(code: string, path: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${path}` });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('kernels boundary lint rules', () => {
  it('forbid raw kernels and deep imports outside libs/kernels', async () => {
    const raw = "import { getKernel } from '@lwz/kernels';\nexport const k = getKernel;\n";
    expect(await messages(raw, 'libs/model/src/fake.ts')).toEqual([
      expect.stringMatching(/^no-restricted-imports: .*getKernel.*checked ops/),
    ]);
    expect(await messages(raw, 'libs/model/src/fake.test.ts')).toEqual([expect.stringMatching(/^no-restricted-imports: /)]);
    const deep = "import { registerKernel } from '@lwz/kernels/src/registry';\nexport const r = registerKernel;\n";
    expect(await messages(deep, 'apps/trainer/src/fake.ts')).toEqual([
      expect.stringMatching(/^no-restricted-imports: .*registry is internal/),
    ]);
    expect(await messages("import { getKernel } from './registry';\nexport const k = getKernel;\n", 'libs/kernels/src/fake.ts')).toEqual(
      [],
    );
    const testing = "import { withHostlessDevice } from '@lwz/kernels/testing';\nexport const w = withHostlessDevice;\n";
    expect(await messages(testing, 'libs/model/src/fake.test.ts')).toEqual([]);
  });

  it('forbid device literals outside libs/kernels and its tests', async () => {
    const branch = "import type { Tensor } from '@lwz/kernels';\nexport const onGpu = (t: Tensor) => t.device === 'cuda';\n";
    expect(await messages(branch, 'libs/model/src/fake.ts')).toEqual([
      expect.stringMatching(/^no-restricted-syntax: Only libs\/kernels names a device/),
    ]);
    expect(await messages("export type D = 'ref' | 'cpu';\n", 'apps/bench-runner/src/fake.ts')).toHaveLength(2);
    expect(await messages("export const d = { device: 'ref' };\n", 'libs/model/src/fake.test.ts')).toEqual([]);
    expect(await messages("export const d = { device: 'cpu' };\n", 'libs/kernels/src/fake.ts')).toEqual([]);
    expect(await messages("export const word = 'reference cpus';\n", 'libs/data/src/fake.ts')).toEqual([]);
  });
});
