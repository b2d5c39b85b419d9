// The samples file (CONTRACTS.md sample lines) as a resumable output: one JSON line per answer, appended and
// fsynced as each answer finishes, so a crash loses at most the line being written. On restart the answers
// already there are skipped; a torn last line (no newline, or not JSON) is dropped by rewriting the file
// atomically without it. Not the line format itself (sample-line.ts).
import { readFileSync } from 'node:fs';
import { UserError, appendJsonl, parseJsonl, pathKind, writeFileAtomic } from '@lwz/core';

/** Key of one answer in a samples file. */
export function sampleKey(id: string, sampleIndex: number): string {
  return `${id}#${sampleIndex}`;
}

/** What an answer was sampled with (a sample line's `sampling`): a file resumes only with the same. */
export type SamplingSettings = Readonly<Record<string, string | number | null>>;

function differences(had: Record<string, unknown>, want: SamplingSettings): string[] {
  const keys = [...new Set([...Object.keys(had), ...Object.keys(want)])];
  return keys
    .filter((k) => JSON.stringify(had[k]) !== JSON.stringify(want[k]))
    .map((k) => `${k} ${JSON.stringify(had[k])} (now ${JSON.stringify(want[k])})`);
}

/** `path` as a samples file: a file (to resume) or nothing yet (to create); a directory is an error. */
export function checkSamplesPath(path: string): 'file' | null {
  const kind = pathKind(path);
  if (kind === 'dir') throw new UserError(`${path} is a directory: give --out the path of a JSONL file (created, or resumed)`);
  return kind;
}

/**
 * Keys of the answers `path` already holds (empty when it does not exist); repairs a torn last line. With
 * `settings`, a line whose `sampling` differs from them is an error naming it: answers drawn with another model,
 * template or sampling setting would otherwise sit in one file beside this run's (lines without `sampling`, from
 * before it was written, are taken as they are). With `prompts` (id -> prompt text of this run's rows), a line
 * whose id now names another prompt is an error: ids without an "id" field are file:line, so a prompt file edited
 * between runs (a row added at the top) would otherwise leave the new prompt unanswered and answer an old one
 * twice. An answer key twice (two runs writing into one file at once) is an error too.
 */
export function resumeSamples(path: string, settings?: SamplingSettings, prompts?: ReadonlyMap<string, string>): Set<string> {
  if (!checkSamplesPath(path)) return new Set();
  const text = readFileSync(path, 'utf8');
  let complete = text;
  if (!text.endsWith('\n') && text.length > 0) {
    complete = text.slice(0, text.lastIndexOf('\n') + 1); // the torn tail goes, parsed or not
    writeFileAtomic(path, complete);
  }
  const lineOf = new Map<string, number>();
  // parseJsonl prefixes each message with path:line
  parseJsonl(complete, path, (v, line) => {
    const row = v as { id?: unknown; sample_index?: unknown; sampling?: unknown; prompt?: unknown } | null;
    if (typeof row?.id !== 'string' || !Number.isInteger(row.sample_index)) {
      throw new UserError('not a sample line (needs "id" and "sample_index"); point --out at a new file');
    }
    if (settings && row.sampling !== undefined) {
      const diff = differences((row.sampling ?? {}) as Record<string, unknown>, settings);
      if (diff.length)
        throw new UserError(
          `this answer was sampled with ${diff.join(', ')}; point --out at a new file, or rerun with the settings the file was made with`,
        );
    }
    const now = prompts?.get(row.id);
    if (now !== undefined && row.prompt !== now)
      throw new UserError(
        `this answer (id ${JSON.stringify(row.id)}) was sampled for another prompt than the row with that id now holds: ` +
          'the prompt file changed since (rows without an "id" field are keyed by file:line). Point --out at a new file, or give the rows stable "id" fields',
      );
    const key = sampleKey(row.id, row.sample_index as number);
    const first = lineOf.get(key);
    if (first !== undefined)
      throw new UserError(
        `answer ${JSON.stringify(row.id)} #${row.sample_index} is already on line ${first}: two runs wrote into this file at once? Keep one line per answer, or point --out at a new file`,
      );
    lineOf.set(key, line);
    return null;
  });
  return new Set(lineOf.keys());
}

/** Append one sample line and fsync. */
export function appendSample(path: string, line: Record<string, unknown>): void {
  appendJsonl(path, line);
}
