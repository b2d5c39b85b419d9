// JSON Lines: read with errors that name `file:line`, write atomically, append one record (metrics).
// Blank lines are skipped; a trailing partial line (a crash mid-append) is reported, not silently dropped.
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from './errors';
import { storageError, writeFileAtomic } from './atomic';
import { refuseDanglingLink } from './links';
import { decodeUtf8Strict } from './utf8';

export interface JsonlRow<T> {
  line: number; // 1-based line number in the file
  value: T;
}

/**
 * Parse every non-blank line. `validate` may throw an Error whose message names the bad field; it is
 * re-thrown as a UserError prefixed with `file:line`.
 */
export function readJsonl<T = unknown>(path: string, validate?: (value: unknown, line: number) => T): JsonlRow<T>[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the path`);
  }
  return parseJsonl(decodeUtf8Strict(bytes, path), path, validate);
}

export function parseJsonl<T = unknown>(text: string, source: string, validate?: (value: unknown, line: number) => T): JsonlRow<T>[] {
  const rows: JsonlRow<T>[] = [];
  // a byte-order mark (Windows editors write one) is invisible and would make the first line invalid JSON
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      const snippet = raw.length > 60 ? `${raw.slice(0, 60)}...` : raw;
      throw new UserError(
        `${source}:${i + 1}: invalid JSON (${(e as Error).message}) in ${JSON.stringify(snippet)}; each line must be one JSON object`,
      );
    }
    try {
      rows.push({ line: i + 1, value: validate ? validate(value, i + 1) : (value as T) });
    } catch (e) {
      throw new UserError(`${source}:${i + 1}: ${(e as Error).message}`);
    }
  }
  return rows;
}

export function formatJsonl(values: Iterable<unknown>): string {
  let out = '';
  for (const v of values) out += JSON.stringify(v) + '\n';
  return out;
}

/** Write all records at once, atomically. */
export function writeJsonl(path: string, values: Iterable<unknown>): void {
  writeFileAtomic(path, formatJsonl(values));
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
