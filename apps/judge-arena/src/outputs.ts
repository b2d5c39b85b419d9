// What every command leaves in --out: results.json, report.md and report.html, each written atomically
// (temp file + rename), so an interrupted run never leaves half a file; plus progress on stderr.
import { join } from 'node:path';
import { Progress, writeFileAtomic, writeJsonAtomic } from '@lwz/core';

export interface CommandOutputs {
  results: unknown;
  markdown: string;
  html: string;
}

export function writeOutputs(out: string, o: CommandOutputs): string[] {
  const files = [join(out, 'results.json'), join(out, 'report.md'), join(out, 'report.html')];
  writeJsonAtomic(files[0], o.results);
  writeFileAtomic(files[1], o.markdown);
  writeFileAtomic(files[2], o.html);
  return files;
}

/** A progress callback (done, total) drawing core's progress bar on stderr. */
export function progressReporter(label: string, unit = 'judgments'): (done: number, total: number) => void {
  let bar: Progress | undefined;
  return (done, total) => {
    if (!bar) {
      bar = new Progress({ label, total, unit });
      return;
    }
    bar.tick(1);
    if (done === total && process.stderr.isTTY) process.stderr.write('\n');
  };
}
