// lwz/no-import-cycle on small file trees (static, type-only, re-export and index imports; a file importing
// itself; a chain without a cycle), and on the workspace itself: no project may hold an import cycle, and
// the workspace's ESLint config really enables the rule for TypeScript files.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, Linter, type Rule } from 'eslint';
import tseslint from 'typescript-eslint';
import rule, { importsOf, pathBack } from './no-import-cycle.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lwz-cycle-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function lint(dir: string, file: string): string[] {
  const linter = new Linter({ cwd: dir });
  const config = [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser as Linter.Parser },
      plugins: { lwz: { rules: { 'no-import-cycle': rule as unknown as Rule.RuleModule } } },
      rules: { 'lwz/no-import-cycle': 'error' as const },
    },
  ];
  const path = join(dir, file);
  return linter.verify(readFileSync(path, 'utf8'), config, path).map((m) => `${m.line}: ${m.message}`);
}

describe('lwz/no-import-cycle', () => {
  it('reports each import that closes a cycle, with the chain, on the import line', () => {
    const dir = tree({
      'a.ts': "import { b } from './b';\nexport const a = b + 1;\n",
      'b.ts': "import { c } from './c';\nexport const b = c;\n",
      'c.ts': "// c needs a only as a type\nimport type { A } from './a';\nexport const c: A | number = 1;\n",
    });
    expect(lint(dir, 'a.ts')).toEqual(['1: import cycle: a.ts -> b.ts -> c.ts -> a.ts']);
    expect(lint(dir, 'c.ts')).toEqual(['2: import cycle: c.ts -> a.ts -> b.ts -> c.ts']);
  });

  it('follows re-exports, index files and .js specifiers; a file importing itself is a cycle', () => {
    const dir = tree({
      'x.ts': "export * from './lib';\n",
      'lib/index.ts': "export { y } from '../y.js';\n",
      'y.ts': "import { x } from './x';\nexport const y = 1;\n",
      'self.ts': "import { s } from './self';\nexport const s = 1;\n",
    });
    expect(lint(dir, 'x.ts')).toEqual(['1: import cycle: x.ts -> lib/index.ts -> y.ts -> x.ts']);
    expect(lint(dir, 'self.ts')).toEqual(['1: import cycle: self.ts -> self.ts']);
  });

  it('accepts a chain and a diamond without cycles', () => {
    const dir = tree({
      'a.ts': "import './b';\nimport './c';\n",
      'b.ts': "import './d';\n",
      'c.ts': "import './d';\nimport('node:fs');\n",
      'd.ts': 'export const d = 1;\n',
    });
    for (const f of ['a.ts', 'b.ts', 'c.ts', 'd.ts']) expect(lint(dir, f)).toEqual([]);
  });
});

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'build' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (/\.m?ts$/.test(name)) out.push(path);
  }
  return out;
}

describe('the workspace', () => {
  it('has no import cycle inside any project', () => {
    const files = ['libs', 'apps', 'tools', 'benchmarks'].flatMap((d) => sourceFiles(join(root, d)));
    expect(files.length).toBeGreaterThan(100);
    const cycles = files.flatMap((f) => importsOf(f).flatMap((d) => (pathBack(d.file, f) ? [`${f} -> ${d.file}`] : [])));
    expect(cycles).toEqual([]);
  });

  it('enables the rule for every TypeScript file', async () => {
    const eslint = new ESLint({ cwd: root });
    for (const file of ['libs/core/src/index.ts', 'apps/trainer/src/main.ts', 'benchmarks/suite.ts']) {
      const config = await eslint.calculateConfigForFile(join(root, file));
      expect(config.rules?.['lwz/no-import-cycle']).toEqual([2]);
    }
  });
});
