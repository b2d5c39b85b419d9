// JSON Lines: read with errors that name `file:line`, write atomically, append one record (metrics).
// Blank lines are skipped; a trailing partial line (a crash mid-append) is reported, not silently dropped.
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from './errors';
import { storageError, writeChunks, writeFileAtomic } from './atomic';
import { refuseDanglingLink } from './links';
import { decodeUtf8Strict, readFileBytes } from './utf8';

export interface JsonlRow<T> {
  line: number; // 1-based line number in the file
  value: T;
}

/**
 * Parse every non-blank line. `validate` may throw an Error whose message names the bad field; it is
 * re-thrown as a UserError prefixed with `file:line`.
 */
export function readJsonl<T = unknown>(path: string, validate?: (value: unknown, line: number) => T): JsonlRow<T>[] {
  const bytes = readFileBytes(path, { hint: 'check the path' });
  // line by line from the bytes: a whole file of 512 MiB or more is longer than a JavaScript string can be
  const rows: JsonlRow<T>[] = [];
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // a byte-order mark, as parseJsonl
  for (let line = 1; start < bytes.length; line++) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.length : nl;
    parseJsonlLine(decodeUtf8Strict(bytes.subarray(start, end), path, line), line, path, validate, rows);
    start = end + 1;
  }
  return rows;
}

export function parseJsonl<T = unknown>(text: string, source: string, validate?: (value: unknown, line: number) => T): JsonlRow<T>[] {
  const rows: JsonlRow<T>[] = [];
  // a byte-order mark (Windows editors write one) is invisible and would make the first line invalid JSON
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < lines.length; i++) parseJsonlLine(lines[i], i + 1, source, validate, rows);
  return rows;
}

/** One line (1-based `line`): skipped when blank, else parsed, validated and pushed to `rows`. */
function parseJsonlLine<T>(
  text: string,
  line: number,
  source: string,
  validate: ((value: unknown, line: number) => T) | undefined,
  rows: JsonlRow<T>[],
): void {
  const raw = text.replace(/\r$/, '');
  if (raw.trim() === '') return;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    const snippet = raw.length > 60 ? `${raw.slice(0, 60)}...` : raw;
    throw new UserError(
      `${source}:${line}: invalid JSON (${(e as Error).message}) in ${JSON.stringify(snippet)}; each line must be one JSON object`,
    );
  }
  try {
    rows.push({ line, value: validate ? validate(value, line) : (value as T) });
  } catch (e) {
    throw new UserError(`${source}:${line}: ${(e as Error).message}`);
  }
}

/** The JSON lines of `values` as one string (small outputs; a file of any size: jsonlChunks). */
export function formatJsonl(values: Iterable<unknown>): string {
  return [...jsonlChunks(values, Infinity)].join('');
}

/**
 * The JSON lines of `values` in pieces of about `chunkChars` characters (whole lines), for writers of any size: one
 * string of a whole file stops at 512 MiB, the longest a JavaScript string can be.
 */
export function* jsonlChunks(values: Iterable<unknown>, chunkChars = 8 * 2 ** 20): Generator<string> {
  let out = '';
  for (const v of values) {
    out += JSON.stringify(v) + '\n';
    if (out.length >= chunkChars) {
      yield out;
      out = '';
    }
  }
  if (out) yield out;
}

/**
 * Write a JSONL file in pieces, not atomically: for the files of a directory that writeDirAtomic renames into place
 * whole (its temp directory is theirs alone).
 */
export function writeJsonlPlain(path: string, values: Iterable<unknown>): void {
  const fd = openSync(path, 'w');
  try {
    writeChunks(fd, jsonlChunks(values));
  } finally {
    closeSync(fd);
  }
}

/** Write all records at once, atomically (a file of any size: written in pieces). */
export function writeJsonl(path: string, values: Iterable<unknown>): void {
  writeFileAtomic(path, jsonlChunks(values));
}

/** Append one record and fsync (metrics logs): a crash loses at most the line being written. */
export function appendJsonl(path: string, value: unknown): void {
  refuseDanglingLink(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, JSON.stringify(value) + '\n');
    const fd = openSync(path, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw storageError(e, path);
  }
}
