// Users' own corpora: plain text files (one document each) and JSONL files (one document per line,
// `{"text": ..., "title"?: ..., "id"?: ...}`), or folders of them. Errors name `file:line` and the field.
// Not a format sniffer for anything else: other extensions are refused with the list of accepted ones.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { UserError, readJsonl } from '@lwz/core';
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
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the path`);
  }
  if (raw.includes('\uFFFD')) {
    throw new UserError(`${path}: not valid UTF-8 text (found replacement characters); convert it to UTF-8`);
  }
  const text = cleanText(raw);
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
    // as readTextDocument: bytes that are not UTF-8 were read as replacement characters
    if (value.text.includes('\uFFFD'))
      throw new UserError(`${path}:${line}: field "text" is not valid UTF-8 (found replacement characters); convert the file to UTF-8`);
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
  return docs;
}

/** Read one file (by extension) or every accepted file in a folder (sorted by name, recursively). */
export function loadUserCorpus(path: string, root: string = path): CorpusDocument[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the path`);
  }
  if (isDir) {
    return readdirSync(path)
      .sort()
      .filter((name) => !name.startsWith('.'))
      .flatMap((name) => {
        const child = join(path, name);
        if (statSync(child).isDirectory()) return loadUserCorpus(child, root);
        return isCorpusFileName(name) ? loadUserCorpus(child, root) : [];
      });
  }
  const ext = extname(path).toLowerCase();
  if (TEXT_EXTENSIONS.includes(ext)) return [readTextDocument(path, root)];
  if (JSONL_EXTENSIONS.includes(ext)) return readJsonlDocuments(path, root);
  throw new UserError(
    `${path}: unsupported corpus file type "${ext}"; use ${[...TEXT_EXTENSIONS, ...JSONL_EXTENSIONS].join(', ')} (JSONL rows {"text": ...})`,
  );
}
