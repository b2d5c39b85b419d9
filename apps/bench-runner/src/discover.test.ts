// Suite discovery: file-name listing, the real repository suites, and the errors a user sees.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUserError } from '@lwz/core';
import { defaultBenchmarksRoot, listSuites, loadSuite } from './discover';

const fixtures = fileURLToPath(new URL('./fixtures/benchmarks', import.meta.url));
const bad = fileURLToPath(new URL('./fixtures/benchmarks-bad', import.meta.url));

describe('listSuites', () => {
  it('finds <lib>/<suite>.bench.ts files and ignores other files', () => {
    const suites = listSuites(fixtures);
    expect(suites.map((s) => [s.lib, s.suite])).toEqual([['tiny', 'tiny']]);
    expect(suites[0].path.endsWith(join('tiny', 'tiny.bench.ts'))).toBe(true);
  });

  it('lists the repository suites, including kernels and attention-memory', () => {
    const names = listSuites(defaultBenchmarksRoot()).map((s) => s.suite);
    expect(names).toEqual(expect.arrayContaining(['kernels', 'attention-memory']));
  });

  it('rejects one suite name used by two files', () => {
    const root = mkdtempSync(join(tmpdir(), 'lwz-bench-dup-'));
    try {
      for (const lib of ['a', 'b']) {
        mkdirSync(join(root, lib));
        writeFileSync(join(root, lib, 'same.bench.ts'), 'export default {};\n');
      }
      expect(() => listSuites(root)).toThrow(/suite name same is used twice/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('says when the folder does not exist', () => {
    expect(() => listSuites('/nonexistent/benchmarks')).toThrow(/does not exist/);
  });

  it('says when --dir is a file, and skips a link to nothing among the <lib> folders', () => {
    const root = mkdtempSync(join(tmpdir(), 'lwz-bench-dir-'));
    try {
      const file = join(root, 'notes.txt');
      writeFileSync(file, 'not a folder\n');
      const err = (() => {
        try {
          listSuites(file);
        } catch (e) {
          return e;
        }
      })();
      expect(isUserError(err)).toBe(true);
      expect((err as Error).message).toBe(
        `benchmarks folder ${file} is a file: pass --dir the folder holding <lib>/<suite>.bench.ts (e.g. benchmarks)`,
      );
      mkdirSync(join(root, 'lib'));
      writeFileSync(join(root, 'lib', 'one.bench.ts'), 'export default {};\n');
      symlinkSync(join(root, 'gone'), join(root, 'dangling'));
      expect(listSuites(root).map((s) => s.suite)).toEqual(['one']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('loadSuite', () => {
  it('imports a suite and checks its shape', async () => {
    const suite = await loadSuite(fixtures, 'tiny');
    expect(suite.suite).toBe('tiny');
    expect(suite.cases({ device: 'ref', threads: 1, smoke: true }).map((c) => c.name)).toEqual(['sum 1000', 'missing kernel', 'measured']);
  });

  it('fails on an unknown name with a UserError listing the valid suites', async () => {
    const err = await loadSuite(fixtures, 'nope').catch((e: unknown) => e);
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(/unknown suite "nope" .*valid suites: tiny/);
  });

  it('rejects a suite whose exported name disagrees with its file name', async () => {
    await expect(loadSuite(bad, 'wrong')).rejects.toThrow(/exports suite "other" but its file name says "wrong"/);
  });
});
