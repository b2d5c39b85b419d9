// Workspace structure checks (issue #9): every project carries one type: and one scope: tag and every
// library scope has its own row of allowed edges; projects import each other without cycles; test helpers
// sit behind a /testing entry that library code never imports; importing @lwz/model does not load
// protobufjs; the data targets run the trainer app and hash its sources; no source file is over STYLE.md's 500 lines.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { ESLint } from 'eslint';
import { resolveRelative } from './eslint/no-import-cycle.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
let eslintInstance: ESLint | null = null;
/** One ESLint for the file (each one loads the Nx project graph: seconds). */
const eslint = () => (eslintInstance ??= new ESLint({ cwd: root }));

interface Project {
  name: string;
  dir: string;
  tags: string[];
  pkg: string | null;
  exports: Record<string, string>;
}

const projects: Project[] = ['libs', 'apps']
  .flatMap((d) => readdirSync(join(root, d)).map((n) => join(root, d, n)))
  .concat([join(root, 'tools')])
  .filter((dir) => existsSync(join(dir, 'project.json')))
  .map((dir) => {
    const p = readJson(join(dir, 'project.json'));
    const pkg = existsSync(join(dir, 'package.json')) ? readJson(join(dir, 'package.json')) : null;
    return { name: p.name, dir, tags: p.tags ?? [], pkg: pkg?.name ?? null, exports: pkg?.exports ?? {} };
  });
const byPackage = new Map(projects.filter((p) => p.pkg).map((p) => [p.pkg as string, p]));
const libs = projects.filter((p) => p.dir.includes(`${join(root, 'libs')}`));

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'build' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (/\.m?ts$/.test(name)) out.push(path);
  }
  return out;
}

const specifiers = (file: string) => ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);

/** `@lwz/x` or `@lwz/x/sub` -> the file its package.json exports for it. */
function resolvePackage(spec: string): string | null {
  const m = /^(@lwz\/[^/]+)(\/.+)?$/.exec(spec);
  const p = m && byPackage.get(m[1]);
  const target = p?.exports[m?.[2] ? `.${m[2]}` : '.'];
  return p && target ? resolve(p.dir, target) : null;
}

describe('tags and module boundaries', () => {
  it('every project has exactly one type: and one scope: tag, scopes unique', () => {
    for (const p of projects) {
      expect([p.name, p.tags.filter((t) => t.startsWith('type:')).length]).toEqual([p.name, 1]);
      expect([p.name, p.tags.filter((t) => t.startsWith('scope:')).length]).toEqual([p.name, 1]);
    }
    const scopes = projects.map((p) => p.tags.find((t) => t.startsWith('scope:')));
    expect(new Set(scopes).size).toBe(projects.length);
  });

  it('every library scope has exactly one row of allowed scopes; only apps are constrained by type', async () => {
    // the rule's options as ESLint resolves them for a library file (what the lint target enforces)
    const config = await eslint().calculateConfigForFile(join(root, 'libs/core/src/index.ts'));
    const [severity, options] = config.rules['@nx/enforce-module-boundaries'];
    expect(severity).toBe(2);
    const rows = options.depConstraints as { sourceTag: string; onlyDependOnLibsWithTags: string[] }[];
    for (const p of [...libs, projects.find((x) => x.name === 'tools') as Project]) {
      const scope = p.tags.find((t) => t.startsWith('scope:'));
      const own = rows.filter((r) => r.sourceTag === scope);
      expect([p.name, own.length]).toEqual([p.name, 1]);
      expect(own[0].onlyDependOnLibsWithTags.every((t) => t.startsWith('scope:'))).toBe(true);
    }
    expect(rows.filter((r) => r.sourceTag.startsWith('type:')).map((r) => r.sourceTag)).toEqual(['type:app']);
    const app = rows.find((r) => r.sourceTag === 'type:app');
    expect(app?.onlyDependOnLibsWithTags).not.toContain('type:app');
    expect(app?.onlyDependOnLibsWithTags).not.toContain('type:tool');
    expect(rows.find((r) => r.sourceTag === 'scope:core')?.onlyDependOnLibsWithTags).toEqual([]);
  });

  it('the lint rule rejects an edge the table does not allow (domain -> domain included) and accepts one it does', async () => {
    const lint = async (file: string, spec: string) => {
      const code = `import * as m from '${spec}';\nexport const probe = m;\n`;
      const [r] = await eslint().lintText(code, { filePath: join(root, file) });
      return r.messages.filter((x) => x.ruleId === '@nx/enforce-module-boundaries').map((x) => x.message);
    };
    expect(await lint('libs/model/src/probe.ts', '@lwz/tokenizer')).toEqual([expect.stringMatching(/"scope:model" can only depend/)]);
    expect(await lint('libs/training/src/probe.ts', '@lwz/data')).toEqual([expect.stringMatching(/"scope:training" can only depend/)]);
    expect(await lint('libs/report/src/probe.ts', '@lwz/kernels')).toHaveLength(1);
    expect(await lint('apps/trainer/src/probe.ts', '../../bench-runner/src/measure')).toHaveLength(1); // another app
    expect(await lint('libs/export/src/probe.ts', '@lwz/tokenizer')).toEqual([]);
    expect(await lint('libs/training/src/probe.ts', '@lwz/report')).toEqual([]);
    expect(await lint('apps/trainer/src/probe.ts', '@lwz/training')).toEqual([]);
  });

  it('projects import each other without a cycle', () => {
    const edges = new Map<string, Set<string>>();
    for (const p of projects) {
      const deps = new Set<string>();
      for (const f of files(p.dir)) {
        for (const s of specifiers(f)) {
          const target = byPackage.get(/^@lwz\/[^/]+/.exec(s)?.[0] ?? '');
          if (target && target !== p) deps.add(target.name);
        }
      }
      edges.set(p.name, deps);
    }
    expect([...(edges.get('training') ?? [])]).toEqual(expect.arrayContaining(['core', 'model', 'optimizer'])); // the scan sees edges
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (n: string, path: string[]) => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'open') return void cycles.push([...path.slice(path.indexOf(n)), n].join(' -> '));
      state.set(n, 'open');
      for (const d of edges.get(n) ?? []) visit(d, [...path, n]);
      state.set(n, 'done');
    };
    for (const n of edges.keys()) visit(n, []);
    expect(cycles).toEqual([]);
  });
});

describe('test helpers behind /testing', () => {
  const withTesting = libs.filter((p) => existsSync(join(p.dir, 'src', 'testing', 'index.ts')));

  it('each lib with src/testing/index.ts exports it as /testing, and its main entry does not', () => {
    expect(withTesting.map((p) => p.name).sort()).toEqual(expect.arrayContaining(['core', 'export', 'kernels', 'model']));
    for (const p of withTesting) {
      expect([p.name, p.exports['./testing']]).toEqual([p.name, './src/testing/index.ts']);
      expect(specifiers(join(p.dir, 'src', 'index.ts')).filter((s) => s.includes('testing'))).toEqual([]);
    }
  });

  it('library code outside src/testing never imports test helpers', () => {
    const offenders: string[] = [];
    for (const p of libs) {
      for (const f of files(join(p.dir, 'src'))) {
        if (f.endsWith('.test.ts') || f.includes(`${join('src', 'testing')}`)) continue;
        for (const s of specifiers(f)) {
          const target = s.startsWith('.') ? resolveRelative(f, s) : resolvePackage(s);
          if (target?.includes(`${join('src', 'testing')}`)) offenders.push(`${relative(root, f)} imports ${s}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});

/** Every module reachable from `entry` through relative and @lwz/* imports; bare packages by name. */
function closure(entry: string): { files: Set<string>; packages: Set<string> } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const stack = [entry];
  while (stack.length) {
    const f = stack.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const s of specifiers(f)) {
      if (s.startsWith('node:')) continue;
      const target = s.startsWith('.') ? resolveRelative(f, s) : resolvePackage(s);
      if (target) stack.push(target);
      else if (!s.startsWith('.')) packages.add(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]);
    }
  }
  return { files: seen, packages };
}

describe('@lwz/model and @lwz/export', () => {
  it('importing @lwz/model reaches neither protobufjs nor onnxruntime, and its package declares neither', () => {
    const model = closure(join(root, 'libs/model/src/index.ts'));
    expect(model.files.size).toBeGreaterThan(10);
    expect([...model.packages]).not.toContain('protobufjs');
    expect([...model.packages]).not.toContain('onnxruntime-node');
    expect([...model.files].some((f) => f.includes(join('libs', 'export')))).toBe(false);
    expect(readJson(join(root, 'libs/model/package.json')).dependencies ?? {}).not.toHaveProperty('protobufjs');
    // the walk does see bare imports: the export lib reaches protobufjs
    expect([...closure(join(root, 'libs/export/src/index.ts')).packages]).toContain('protobufjs');
    expect(readJson(join(root, 'libs/export/package.json')).dependencies).toHaveProperty('protobufjs');
  });
});

describe('data targets', () => {
  it('run the trainer app and count its sources and every library as inputs', () => {
    const targets = readJson(join(root, 'libs/data/project.json')).targets;
    for (const name of ['corpus', 'tokenizer', 'prepare', 'prompts']) {
      const t = targets[name];
      expect([name, t.options.command.startsWith('npx lwz-train ')]).toEqual([name, true]);
      expect(t.cache).toBe(true);
      const app = t.inputs.find((i: { projects?: string[] }) => i.projects);
      expect(app).toEqual({ input: 'production', projects: expect.arrayContaining(['trainer', 'tag:type:domain', 'tag:type:util']) });
    }
    expect(existsSync(join(root, 'libs/data/src/cli'))).toBe(false);
    expect(existsSync(join(root, 'apps/trainer/src/commands/data.ts'))).toBe(true);
  });
});

describe('file size', () => {
  const SOURCE = /\.(m?ts|m?js|cpp|cu|cuh|h|py|sh)$/;
  /** Every source file under `dir`, build outputs, dependencies and hidden folders left out. */
  function sources(dir: string, out: string[] = []): string[] {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('build') || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) sources(path, out);
      else if (SOURCE.test(name)) out.push(path);
    }
    return out;
  }

  it("no source file is over STYLE.md's 500 lines (split a longer one by what its parts do)", () => {
    const all = ['apps', 'libs', 'tools', 'benchmarks'].flatMap((d) => sources(join(root, d)));
    // the walk reaches every kind of source: TypeScript, the native CPU kernels and the CUDA ones
    for (const f of ['libs/kernels/native/gemm.cpp', 'libs/kernels/cuda/attention.cuh', 'apps/trainer/src/grpo/run.ts'])
      expect(all).toContain(join(root, f));
    const lines = (f: string) => readFileSync(f, 'utf8').split('\n').length - 1;
    const long = all.filter((f) => lines(f) > 500).map((f) => `${relative(root, f)}: ${lines(f)} lines`);
    expect(long).toEqual([]);
  });
});
