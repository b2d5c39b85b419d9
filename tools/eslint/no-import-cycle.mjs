// ESLint rule `lwz/no-import-cycle`: a file must not reach itself through relative imports (type-only imports
// and re-exports count: they still tie the files' meanings together). Imports are read with TypeScript's
// preProcessFile, resolved like the bundler resolution the workspace uses, and cached per file and mtime.
// Cycles between projects are @nx/enforce-module-boundaries' job; this catches the ones inside a project.
import { readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];
const cache = new Map(); // file -> { mtimeMs, deps: { spec, file }[] }

function isFile(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The file a relative specifier names: as written, with an extension, `.js` written for `.ts`, or an index. */
export function resolveRelative(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [base, ...EXTENSIONS.map((e) => base + e), ...EXTENSIONS.map((e) => resolve(base, `index${e}`))];
  if (/\.m?js$/.test(base)) candidates.push(base.replace(/\.(m?)js$/, '.$1ts'));
  return candidates.find((c) => /\.[mc]?[jt]s$/.test(c) && isFile(c)) ?? null;
}

/**
 * Relative imports of `file` (static, type-only, re-exports, dynamic import()), resolved to files.
 * @param {string} file
 * @returns {{ spec: string, file: string }[]}
 */
export function importsOf(file) {
  let mtimeMs;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return [];
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.deps;
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const deps = [];
  for (const { fileName: spec } of info.importedFiles) {
    if (!spec.startsWith('.')) continue;
    const target = resolveRelative(file, spec);
    if (target) deps.push({ spec, file: target });
  }
  cache.set(file, { mtimeMs, deps });
  return deps;
}

/**
 * The shortest import path from `from` back to `to` (both included), or null.
 * @param {string} from
 * @param {string} to
 * @returns {string[] | null}
 */
export function pathBack(from, to) {
  const parent = new Map([[from, null]]);
  const queue = [from];
  while (queue.length) {
    const cur = queue.shift();
    if (cur === to) {
      const path = [];
      for (let f = cur; f !== null; f = parent.get(f)) path.unshift(f);
      return path;
    }
    for (const d of importsOf(cur)) {
      if (!parent.has(d.file)) {
        parent.set(d.file, cur);
        queue.push(d.file);
      }
    }
  }
  return null;
}

function sourceOf(node) {
  if (node.type === 'ImportDeclaration' || node.type === 'ExportAllDeclaration' || node.type === 'ExportNamedDeclaration') {
    return node.source?.value;
  }
  return undefined;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'forbid import cycles between the files of a project' },
    messages: { cycle: 'import cycle: {{chain}}' },
    schema: [],
  },
  create(context) {
    const file = context.physicalFilename ?? context.filename;
    if (!EXTENSIONS.some((e) => file.endsWith(e))) return {};
    return {
      Program(program) {
        const cwd = context.cwd ?? process.cwd();
        const seen = new Set();
        for (const dep of importsOf(file)) {
          if (seen.has(dep.file)) continue;
          seen.add(dep.file);
          const back = dep.file === file ? [file] : pathBack(dep.file, file);
          if (!back) continue;
          const chain = [file, ...back].map((f) => relative(cwd, f)).join(' -> ');
          const node = program.body.find((n) => sourceOf(n) === dep.spec) ?? program;
          context.report({ node, messageId: 'cycle', data: { chain } });
        }
      },
    };
  },
};
