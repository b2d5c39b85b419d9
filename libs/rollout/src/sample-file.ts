// The samples file (CONTRACTS.md sample lines) as a resumable output: one JSON line per answer, appended and
// fsynced as each answer finishes, so a crash loses at most the line being written. On restart the answers
// already there are skipped; a torn last line (no newline, or not JSON) is dropped by rewriting the file
// atomically without it. Not the line format itself (sample-line.ts).
import { existsSync, readFileSync } from 'node:fs';
import { UserError, appendJsonl, parseJsonl, writeFileAtomic } from '@lwz/core';

/** Key of one answer in a samples file. */
export function sampleKey(id: string, sampleIndex: number): string {
  return `${id}#${sampleIndex}`;
}

/** Keys of the answers `path` already holds (empty when it does not exist); repairs a torn last line. */
export function resumeSamples(path: string): Set<string> {
  const done = new Set<string>();
  if (!existsSync(path)) return done;
  const text = readFileSync(path, 'utf8');
  let complete = text;
  if (!text.endsWith('\n') && text.length > 0) {
    complete = text.slice(0, text.lastIndexOf('\n') + 1); // the torn tail goes, parsed or not
    writeFileAtomic(path, complete);
  }
  for (const { value } of parseJsonl(complete, path, (v) => {
    const row = v as { id?: unknown; sample_index?: unknown } | null;
    if (typeof row?.id !== 'string' || !Number.isInteger(row.sample_index)) {
      throw new UserError('not a sample line (needs "id" and "sample_index"); point --out at a new file');
    }
    return row as { id: string; sample_index: number };
  })) {
    done.add(sampleKey(value.id, value.sample_index));
  }
  return done;
}

/** Append one sample line and fsync. */
export function appendSample(path: string, line: Record<string, unknown>): void {
  appendJsonl(path, line);
}
