// Path options checked before any judging: a --cache-dir (or <out>/cache) that cannot be a directory is named
// up front, with no judge call made, and so is an empty path (an unset shell variable) and an --out holding another
// command's results; the chat judge here is the local test server, which counts its calls.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestLlmServer } from '@lwz/llm-client/testing';
import { startFakeJudge, writeFixture } from '../test-fixtures';
import { run as runArena } from './arena';
import { run as runWritingBench } from './writingbench';
import { run as runLongBench } from './longbench-write';

let server: TestLlmServer;
afterEach(async () => server?.close());

const judgeFlags = () => ({ judgeUrl: server.baseUrl, judgeModel: 'test-model', judgeRetries: '0', quiet: true });

describe('lwz-arena --cache-dir', () => {
  it('is refused before any judge call when a file is in its way', async () => {
    const f = writeFixture({ prompts: 2 });
    server = await startFakeJudge();
    const file = join(f.dir, 'a-file.txt');
    writeFileSync(file, 'not a folder\n');
    const arena = (extra: { out: string; cacheDir?: string }) => runArena({ models: f.models.slice(0, 2), ...judgeFlags(), ...extra });
    await expect(arena({ out: join(f.dir, 'o1'), cacheDir: file })).rejects.toThrow(
      `lwz-arena arena: --cache-dir ${file} is a file: give a directory for the cached judgments`,
    );
    await expect(arena({ out: join(f.dir, 'o2'), cacheDir: join(file, 'cache') })).rejects.toThrow(
      `lwz-arena arena: --cache-dir ${join(file, 'cache')}: ${file} is a file, so the directory cannot be made; give another --cache-dir`,
    );
    // the default, <out>/cache, when a file of that name sits in --out
    const out = join(f.dir, 'o3');
    mkdirSync(out);
    writeFileSync(join(out, 'cache'), '');
    await expect(arena({ out })).rejects.toThrow(/the judgment cache .*o3\/cache \(the default: <out>\/cache\) is a file/);
    await expect(
      runWritingBench({ responses: f.wbResponses, queries: f.wbQueries, out: join(f.dir, 'o4'), cacheDir: file, ...judgeFlags() }),
    ).rejects.toThrow(`lwz-arena writingbench: --cache-dir ${file} is a file`);
    expect(server.calls).toBe(0);
  });
});

describe('lwz-arena path options', () => {
  it('name an empty path as empty, with the flag, before any judge call', async () => {
    const f = writeFixture({ prompts: 2 });
    server = await startFakeJudge();
    const empty = 'is empty: give a path (an unset shell variable?)';
    await expect(runArena({ models: f.models.slice(0, 2), baselines: '', out: join(f.dir, 'a'), ...judgeFlags() })).rejects.toThrow(
      `lwz-arena arena: --baselines: ${empty}`,
    );
    await expect(
      runWritingBench({ responses: f.wbResponses, queries: f.wbQueries, cQueries: '', out: join(f.dir, 'w'), ...judgeFlags() }),
    ).rejects.toThrow(`lwz-arena writingbench: --c-queries: ${empty}`);
    await expect(runLongBench({ responses: f.lbResponses, prompts: '', out: join(f.dir, 'l'), ...judgeFlags() })).rejects.toThrow(
      `lwz-arena longbench-write: --prompts: ${empty}`,
    );
    await expect(runArena({ models: f.models.slice(0, 2), judgeTemplate: '', out: join(f.dir, 't'), ...judgeFlags() })).rejects.toThrow(
      `lwz-arena arena: --judge-template: ${empty}`,
    );
    expect(server.calls).toBe(0);
  });
});

describe('lwz-arena --out', () => {
  it("is refused when it holds another lwz-arena command's results, which would be replaced", async () => {
    const f = writeFixture({ prompts: 2 });
    const out = join(f.dir, 'model-eval');
    mkdirSync(out);
    const wb = JSON.stringify({ command: 'writingbench', overall: 7.5 });
    writeFileSync(join(out, 'results.json'), wb);
    await expect(runLongBench({ responses: f.lbResponses, out, quiet: true })).rejects.toThrow(
      `lwz-arena longbench-write: --out ${out} holds the results of lwz-arena writingbench, which this longbench-write run would overwrite; give another directory (e.g. ${join(out, 'longbench-write')})`,
    );
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe(wb);
    // the same command's earlier output is replaced, as a rerun should
    writeFileSync(join(out, 'results.json'), JSON.stringify({ command: 'longbench-write' }));
    await runLongBench({ responses: f.lbResponses, out, quiet: true });
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).S_l).toEqual(expect.any(Number));
  });

  it('is refused when it holds a verl recipe or a data directory, which their commands would then refuse to replace', async () => {
    const f = writeFixture({ prompts: 2 });
    const recipe = join(f.dir, 'recipe');
    mkdirSync(recipe);
    for (const n of ['README.md', 'run_grpo.sh', 'lwz_reward.py', 'rewards.json']) writeFileSync(join(recipe, n), 'x\n');
    await expect(runLongBench({ responses: f.lbResponses, out: recipe, quiet: true })).rejects.toThrow(
      `lwz-arena longbench-write: --out ${recipe} holds a verl recipe (run_grpo.sh, lwz_reward.py) from lwz-train export-recipe, not an lwz-arena output, and would be overwritten; give another directory (e.g. ${join(recipe, 'eval')})`,
    );
    const prompts = join(f.dir, 'prompts');
    mkdirSync(prompts);
    writeFileSync(join(prompts, 'manifest.json'), JSON.stringify({ format: 'lwz-writing/1' }));
    await expect(runLongBench({ responses: f.lbResponses, out: prompts, quiet: true })).rejects.toThrow(
      `--out ${prompts} holds a data directory (manifest.json) from lwz-train data`,
    );
    // another program's manifest.json is no reason to refuse
    const site = join(f.dir, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'manifest.json'), JSON.stringify({ name: 'a web app' }));
    await runLongBench({ responses: f.lbResponses, out: site, quiet: true });
    expect(existsSync(join(site, 'results.json'))).toBe(true);
    for (const dir of [recipe, prompts])
      expect(['results.json', 'report.md', 'report.html'].filter((n) => existsSync(join(dir, n)))).toEqual([]);
  });
});
