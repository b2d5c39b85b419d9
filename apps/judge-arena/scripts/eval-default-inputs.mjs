// The Nx runtime input of `judge-arena:eval-default`: one SHA-256 over the files the command reads under runs/
// (the held-out answers and config of grpo-tiny and its ablations, the built-in RM checkpoint). runs/ is
// gitignored and Nx does not hash gitignored files named as file inputs, so they reach the hash this way; a
// file that does not exist yet simply adds nothing. Prints the hex digest; reads nothing else.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const runs = process.argv[2] ?? 'runs';
const files = [];
if (existsSync(runs)) {
  for (const run of readdirSync(runs).sort()) {
    if (!run.startsWith('grpo-tiny')) continue;
    for (const f of ['config.json', 'heldout-base.jsonl', 'heldout-rl.jsonl']) files.push(join(runs, run, f));
  }
  const rm = join(runs, 'rm-tiny', 'model');
  if (existsSync(rm)) for (const f of readdirSync(rm).sort()) files.push(join(rm, f));
}
const hash = createHash('sha256');
for (const f of files) {
  if (!existsSync(f) || !statSync(f).isFile()) continue;
  hash.update(`${f}\0`).update(readFileSync(f)).update('\0');
}
process.stdout.write(`${hash.digest('hex')}\n`);
