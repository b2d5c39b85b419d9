// metrics.jsonl: one flat JSON object per optimizer step (`step` plus keys such as `train/loss`,
// `reward/length/mean`), appended and fsynced as each step ends. On resume the file is cut back to the
// checkpoint's step; a torn last line (the process died mid-append) is dropped, a bad line anywhere else
// is an error naming file:line. Not a metrics database: readers load the whole file.
import { existsSync, readFileSync } from 'node:fs';
import { UserError, parseJsonl, writeJsonl } from '@lwz/core';

export type MetricValue = number | string | boolean | null;
/** One line of metrics.jsonl: the step (updates completed, 1-based) and flat metric keys. */
export type MetricsRow = { step: number } & Record<string, MetricValue>;

function checkRow(value: unknown): MetricsRow {
  const row = value as MetricsRow | null;
  if (!row || typeof row !== 'object' || Array.isArray(row) || !Number.isInteger(row.step)) {
    throw new Error('expected an object with an integer "step"');
  }
  return row;
}

/** Every row; a torn last line is left out (see `truncateMetrics`). */
export function readMetrics(path: string): MetricsRow[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  const last = lines.pop();
  const rows = parseJsonl(lines.join('\n'), path, checkRow).map((r) => r.value);
  if (last !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(last);
    } catch {
      return rows; // the interrupted append
    }
    try {
      rows.push(checkRow(value));
    } catch (e) {
      throw new UserError(`${path}:${lines.length + 1}: ${(e as Error).message}`);
    }
  }
  return rows;
}

/** Keep the rows of steps <= `step` (a resumed run logs the later steps again); returns the rows kept. */
export function truncateMetrics(path: string, step: number): MetricsRow[] {
  if (!existsSync(path)) return [];
  const kept = readMetrics(path).filter((r) => r.step <= step);
  writeJsonl(path, kept);
  return kept;
}
