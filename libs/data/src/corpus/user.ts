// Users' own corpora: plain text files (one document each) and JSONL files (one document per line,
// `{"text": ..., "title"?: ..., "id"?: ...}`), or folders of them. Errors name `file:line` and the field.
// Not a format sniffer for anything else: other extensions are refused with the list of accepted ones, and a folder
// without one accepted file is an error saying what it should hold (not a silent empty contribution).
import { readdirSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { UserError, readJsonl, readTextFile } from '@lwz/core';
import { cleanText } from './clean';
import type { CorpusDocument } from './document';

const TEXT_EXTENSIONS = ['.txt', '.md'];
const JSONL_EXTENSIONS = ['.jsonl'];

/**
 * Whether a folder walk takes this entry: not hidden, and a corpus file type by its extension in any case
 * (`.txt`, `.md`, `.jsonl`). One rule for every command that reads a user's folder (data corpus, train-tokenizer).
 */
export function isCorpusFileName(name: string): boolean {
  return !name.startsWith('.') && [...TEXT_EXTENSIONS, ...JSONL_EXTENSIONS].includes(extname(name).toLowerCase());
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 40))}` : `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * A user file's id part: its path from the folder that holds the --file argument (`spec.jsonl` for `--file
 * ec/spec.jsonl` and `./ec/spec.jsonl` alike; `ec/spec.jsonl` for `--file ec`). Ids key the train/val split, so
 * the split must not follow how the path was written or where the folder sits.
 */
function idPath(path: string, root: string): string {
  return relative(dirname(resolve(root)), resolve(path))
    .split(sep)
    .join('/');
}

function readTextDocument(path: string, root: string): CorpusDocument {
  const text = cleanText(readTextFile(path, { hint: 'check the path' }));
  if (!text) throw new UserError(`${path}: the file holds no text after cleaning; remove it from the corpus`);
  return { id: idPath(path, root), title: basename(path, extname(path)), source: path, text };
}

function validateJsonlDocument(value: unknown): { text: string; title?: string; id?: string } {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`expected a JSON object like {"text": "..."}, got ${describe(value)}`);
  }
  const row = value as Record<string, unknown>;
  if (typeof row.text !== 'string') throw new Error(`field "text" must be a string, got ${describe(row.text)}`);
  if (row.title !== undefined && typeof row.title !== 'string') {
    throw new Error(`field "title" must be a string when present, got ${describe(row.title)}`);
  }
  if (row.id !== undefined && typeof row.id !== 'string' && typeof row.id !== 'number') {
    throw new Error(`field "id" must be a string or number when present, got ${describe(row.id)}`);
  }
  return { text: row.text, title: row.title as string | undefined, id: row.id === undefined ? undefined : String(row.id) };
}

function readJsonlDocuments(path: string, root: string): CorpusDocument[] {
  const docs: CorpusDocument[] = [];
  for (const { line, value } of readJsonl(path, validateJsonlDocument)) {
    const text = cleanText(value.text);
    if (!text) throw new UserError(`${path}:${line}: field "text" is empty after cleaning; drop the line`);
    docs.push({
      id: `${idPath(path, root)}#${value.id ?? line}`,
      // no title, no title line: a made-up "<file> line N" would be trained on as the document's first words
      title: value.title ?? '',
      source: path,
      text,
    });
  }
  // as an empty text file: a file named as a corpus that gives nothing is a mistake, not a silent empty contribution
  if (docs.length === 0)
    throw new UserError(`${path}: the file has no rows; put one {"text": ...} object per line, or remove it from the corpus`);
  return docs;
}

function statOrExplain(path: string): Stats {
  try {
    return statSync(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the path`);
  }
}

/** The accepted files under `dir` (sorted by name, subfolders in place), and the names of the other entries skipped. */
function folderFiles(dir: string): { files: string[]; skipped: string[] } {
  const files: string[] = [];
  const skipped: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const child = join(dir, name);
    if (name.startsWith('.')) skipped.push(name);
    else if (statOrExplain(child).isDirectory()) {
      const inner = folderFiles(child);
      // one by one: a subfolder of 100k+ files spread into push() would overflow the call stack
      for (const f of inner.files) files.push(f);
      for (const n of inner.skipped) skipped.push(`${name}/${n}`);
    } else if (isCorpusFileName(name)) files.push(child);
    else skipped.push(name);
  }
  return { files, skipped };
}

/** Why a folder given as a corpus contributes nothing, and what it should hold. */
function noUsableFiles(dir: string, skipped: readonly string[]): string {
  const shown = skipped.slice(0, 5).join(', ') + (skipped.length > 5 ? ` and ${skipped.length - 5} more` : '');
  return (
    `${dir}: the folder has no usable text files (${skipped.length ? `it holds only ${shown}` : 'it is empty'}). ` +
    'A corpus folder takes .txt and .md files (one document each) and .jsonl files (one {"text": ...} row per document), ' +
    'in the folder or its subfolders, in any case of the extension; hidden files are skipped. Put your texts there in one of those forms'
  );
}

/**
 * Read one file (by extension) or every accepted file in a folder (sorted by name, recursively). A folder named
 * directly (`path` is `root`) without a single accepted file is an error saying what it should hold.
 */
export function loadUserCorpus(path: string, root: string = path): CorpusDocument[] {
  if (statOrExplain(path).isDirectory()) {
    const { files, skipped } = folderFiles(path);
    if (path === root && files.length === 0) throw new UserError(noUsableFiles(path, skipped));
    return files.flatMap((file) => loadUserCorpus(file, root));
  }
  const ext = extname(path).toLowerCase();
  if (TEXT_EXTENSIONS.includes(ext)) return [readTextDocument(path, root)];
  if (JSONL_EXTENSIONS.includes(ext)) return readJsonlDocuments(path, root);
  throw new UserError(
    `${path}: unsupported corpus file type "${ext}"; use ${[...TEXT_EXTENSIONS, ...JSONL_EXTENSIONS].join(', ')} (JSONL rows {"text": ...})`,
  );
}
