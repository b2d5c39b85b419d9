// What every command leaves in --out: results.json, report.md and report.html, each written atomically
// (temp file + rename), so an interrupted run never leaves half a file; plus progress on stderr.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Progress, UserError, pathKind, refuseDanglingLink, writeFileAtomic, writeJsonAtomic } from '@lwz/core';

const COMMANDS = ['arena', 'writingbench', 'longbench-write', 'eval-default'];

/** The file at `dir` or at the nearest existing folder above it, which keeps `dir` from being a directory; else null. */
function fileInTheWay(dir: string): string | null {
  for (let p = dir; ; p = dirname(p)) {
    const kind = pathKind(p);
    if (kind === 'file') return p;
    if (kind === 'dir' || dirname(p) === p) return null;
  }
}

/** A top-level field of a JSON object file; undefined when the file is missing, unreadable or not such JSON. */
function readJsonField(file: string, field: string): unknown {
  if (pathKind(file) !== 'file') return undefined;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> | null)?.[field];
  } catch {
    return undefined;
  }
}

/**
 * --out is a directory this command may write its results.json, report.md and report.html into: not a file, not
 * under one, and not a directory holding those names from something else (a training run's report.html beside its
 * metrics.jsonl: `--out runs/grpo-tiny` is easy to type when the answers live there; a checkpoint, a verl recipe or a
 * data directory, whose own commands then refuse to replace it), including another lwz-arena
 * command's results (a longbench-write run must not replace the writingbench results of the same model). This
 * command's earlier output (results.json naming it) is replaced, as a rerun should. Checked before any judging.
 */
export function checkOutDir(out: string, command: string): void {
  const where = `lwz-arena ${command}: --out ${out}`;
  refuseDanglingLink(out);
  const file = fileInTheWay(out);
  if (file !== null)
    throw new UserError(
      file === out
        ? `${where} is a file: give a directory (results.json, report.md and report.html go into it)`
        : `${where}: ${file} is a file, so the directory cannot be made; give another --out`,
    );
  if (pathKind(out) !== 'dir') return;
  const foreign = (why: string) =>
    new UserError(
      `${where} holds ${why}, not an lwz-arena output, and would be overwritten; give another directory (e.g. ${join(out, 'eval')})`,
    );
  if (['metrics.jsonl', 'checkpoints'].some((n) => pathKind(join(out, n)) !== null))
    throw foreign('a training run (metrics.jsonl or checkpoints/)');
  // a model checkpoint: export-recipe and init refuse a folder once reports sit beside the weights
  if (['model.safetensors', 'model.safetensors.index.json', 'tokenizer.json'].some((n) => pathKind(join(out, n)) !== null))
    throw foreign('a model checkpoint (model.safetensors or tokenizer.json)');
  // the other lwz-train outputs, which refuse to replace a folder once reports sit among their files
  if (['run_grpo.sh', 'lwz_reward.py'].some((n) => pathKind(join(out, n)) !== null))
    throw foreign('a verl recipe (run_grpo.sh, lwz_reward.py) from lwz-train export-recipe');
  const data = ['manifest.json', 'index.json'].find((n) => /^lwz-/.test(String(readJsonField(join(out, n), 'format'))));
  if (data !== undefined) throw foreign(`a data directory (${data}) from lwz-train data`);
  const results = join(out, 'results.json');
  if (pathKind(results) === 'file') {
    const cmd = readJsonField(results, 'command');
    if (!COMMANDS.includes(cmd as string)) throw foreign('a results.json');
    if (cmd !== command)
      throw new UserError(
        `${where} holds the results of lwz-arena ${cmd as string}, which this ${command} run would overwrite; give another directory (e.g. ${join(out, command)})`,
      );
  } else if (['report.md', 'report.html'].some((n) => pathKind(join(out, n)) !== null)) throw foreign('a report');
}

/**
 * The judgment cache directory (--cache-dir, or <out>/cache by default) can be made: a file there or above it is
 * named before any judging, not at the first judgment's write, after judge calls that were paid for and lost.
 */
export function checkCacheDir(dir: string, command: string, fromFlag: boolean): void {
  const file = fileInTheWay(dir);
  if (file === null) return;
  const where = fromFlag ? `--cache-dir ${dir}` : `the judgment cache ${dir} (the default: <out>/cache)`;
  throw new UserError(
    file === dir
      ? `lwz-arena ${command}: ${where} is a file: give a directory for the cached judgments${fromFlag ? '' : ' with --cache-dir, or move the file away'}`
      : `lwz-arena ${command}: ${where}: ${file} is a file, so the directory cannot be made; give another --cache-dir`,
  );
}

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

/**
 * Say on stderr how many judgments had no usable reply; when none had one, fail (exit non-zero) after the outputs
 * were written for inspection: a table of ratings or scores built from nothing is not a result.
 */
export function reportUnusable(command: string, invalid: number, total: number, what: string): void {
  if (!invalid) return;
  if (invalid < total)
    return void console.error(
      `note: ${invalid} of ${total} ${what} had no usable reply (left out; a rerun with more --judge-attempts asks further)`,
    );
  throw new UserError(
    `lwz-arena ${command}: none of the ${total} ${what} had a usable reply, so nothing was scored (the outputs show the judge's replies): check --judge-model and --judge-template, or rerun with more --judge-attempts`,
  );
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
