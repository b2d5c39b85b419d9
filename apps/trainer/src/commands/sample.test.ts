// `lwz-train sample` end to end on a small random checkpoint with a freshly trained BPE tokenizer: one line
// per answer with the CONTRACTS.md fields and the prompt row's own fields carried through; a run killed
// mid-file (a torn last line, answers missing) resumes to exactly the file an uninterrupted run writes;
// a finished file is left alone; --rollout-url against `serve` writes the same lines; bad inputs are explained.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { LocalRollout, startServer } from '@lwz/rollout';
import { writeRolloutCheckpoint } from './rollout-fixture';
import { register, run } from './sample';

let dir: string;
let ckpt: string;
let prompts: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-sample-'));
  ckpt = writeRolloutCheckpoint(dir);
  prompts = join(dir, 'prompts.jsonl');
  const rows = [
    { prompt: 'Write about the sea.', type: 'story', length: 300 },
    { prompt: 'Describe the sky.', type: 'essay', length: 500 },
    { prompt: 'A poem.', type: 'poem', length: 100 },
  ];
  writeFileSync(prompts, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (out: string) => ({ checkpoint: ckpt, prompts, out, n: 2, maxNewTokens: 10, temperature: 1, seed: 3 });
const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const byKey = (rows: Record<string, unknown>[]) => Object.fromEntries(rows.map((r) => [`${r.id}#${r.sample_index}`, r]));

describe('lwz-train sample', () => {
  it('writes one contract line per answer, and resumes a torn, partial file to the same answers', async () => {
    const full = join(dir, 'full.jsonl');
    const r = await run(options(full));
    expect(r).toEqual({ written: 6, skipped: 0, prompts: 3, tooLong: [], format: 'longbench-write' });
    const rows = lines(full);
    expect(rows).toHaveLength(6);
    for (const row of rows) {
      for (const f of ['id', 'prompt', 'response', 'think', 'answer', 'answer_words', 'tokens', 'token_ids', 'finish_reason'])
        expect(row).toHaveProperty(f);
      expect(row.tokens).toBe((row.token_ids as number[]).length);
      expect(['stop', 'length']).toContain(row.finish_reason);
      expect(row.type).toMatch(/story|essay|poem/); // carried through from the prompt row
    }
    // a crash: two answers missing and the last line cut in half
    const text = readFileSync(full, 'utf8').split('\n').filter(Boolean);
    const partial = join(dir, 'partial.jsonl');
    writeFileSync(partial, text.slice(0, 3).join('\n') + '\n' + text[3].slice(0, 20));
    const resumed = await run(options(partial));
    expect(resumed).toEqual({ written: 3, skipped: 3, prompts: 3, tooLong: [], format: 'longbench-write' });
    expect(byKey(lines(partial))).toEqual(byKey(rows));
    expect(await run(options(partial))).toEqual({ written: 0, skipped: 6, prompts: 3, tooLong: [], format: 'longbench-write' });
  });

  it("starts each response with the <think> a checkpoint's chat template opened", async () => {
    const r1 = join(dir, 'r1-like');
    cpSync(ckpt, r1, { recursive: true });
    // a generation prompt that opens <think>, as DeepSeek-R1 distills' does (our own minimal template)
    const template =
      "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant: <think>\n{% endif %}";
    writeFileSync(join(r1, 'tokenizer_config.json'), JSON.stringify({ chat_template: template }));
    const out = join(dir, 'r1.jsonl');
    await run({ ...options(out), checkpoint: r1, n: 1 });
    for (const row of lines(out)) {
      expect(String(row.response).startsWith('<think>\n')).toBe(true);
      expect(row.tokens).toBe((row.token_ids as number[]).length); // the ids are the generated tokens only
    }
  });

  it('takes a run directory for its newest complete checkpoint', async () => {
    const runDir = join(dir, 'run');
    for (const step of [2, 5, 9]) {
      cpSync(ckpt, join(runDir, 'checkpoints', `step-${step}`), { recursive: true });
      if (step < 9) writeFileSync(join(runDir, 'checkpoints', `step-${step}`, 'trainer_state.json'), '{}'); // step 9: unfinished
    }
    const [fromRun, fromCkpt] = [join(dir, 'from-run.jsonl'), join(dir, 'from-ckpt.jsonl')];
    await run({ ...options(fromRun), checkpoint: runDir });
    await run(options(fromCkpt));
    expect((lines(fromRun)[0].sampling as { checkpoint: string }).checkpoint).toBe(join(runDir, 'checkpoints', 'step-5'));
    const tokens = (f: string) => lines(f).map((l) => [l.id, l.sample_index, l.token_ids]);
    expect(tokens(fromRun)).toEqual(tokens(fromCkpt));
  });

  it('records what each answer was sampled with, and resumes a file only with the same settings', async () => {
    const out = join(dir, 'settings.jsonl');
    await run(options(out));
    expect(lines(out)[0].sampling).toEqual({
      checkpoint: ckpt,
      template: 'think',
      temperature: 1,
      top_p: 1,
      top_k: 0,
      max_new_tokens: 10,
      seed: 3,
    });
    await expect(run({ ...options(out), temperature: 0.5 })).rejects.toThrow(
      new RegExp(`settings\\.jsonl:1: this answer was sampled with temperature 1 \\(now 0\\.5\\); point --out at a new file`),
    );
    await expect(run({ ...options(out), template: 'direct' })).rejects.toThrow(/template "think" \(now "direct"\)/);
    // more answers per prompt with the same settings: the new ones are added
    expect(await run({ ...options(out), n: 3 })).toEqual({ written: 3, skipped: 6, prompts: 3, tooLong: [], format: 'longbench-write' });
    // a file from before lines recorded their settings resumes as it is
    const old = join(dir, 'old.jsonl');
    writeFileSync(
      old,
      lines(out)
        .slice(0, 2)
        .map((l) => JSON.stringify({ ...l, sampling: undefined }))
        .join('\n') + '\n',
    );
    expect((await run({ ...options(old), temperature: 0.5 })).skipped).toBe(2);
  });

  it('--rollout-url sends the same work to a server and writes the same lines', async () => {
    const rollout = LocalRollout.fromCheckpoint(ckpt);
    const server = await startServer(rollout, { port: 0, modelName: 'ckpt' });
    try {
      const localFile = join(dir, 'local.jsonl');
      const remoteFile = join(dir, 'remote.jsonl');
      await run(options(localFile));
      expect(await run({ ...options(remoteFile), rolloutUrl: [server.url] })).toEqual({
        written: 6,
        skipped: 0,
        prompts: 3,
        tooLong: [],
        format: 'longbench-write',
      });
      // the same lines but for where they were sampled (`sampling.checkpoint`: the server, the local directory)
      const where = (rows: Record<string, unknown>[]) =>
        rows.map((r) => ({ ...r, sampling: { ...(r.sampling as object), checkpoint: '' } }));
      expect(byKey(where(lines(remoteFile)))).toEqual(byKey(where(lines(localFile))));
      // the served model's own name (asked from /v1/models), so a file resumes only against the same model
      expect((lines(remoteFile)[0].sampling as { checkpoint: string }).checkpoint).toBe(`ckpt at ${server.url}`);
    } finally {
      await server.close();
      await rollout.close();
    }
  });

  it('explains bad inputs', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"text": "not a sample"}\n');
    await expect(run(options(bad))).rejects.toThrow(/not a sample line/);
    await expect(run({ ...options(join(dir, 'x.jsonl')), checkpoint: dir })).rejects.toThrow(
      /not a checkpoint directory .* nor a run directory .*; point --checkpoint at one/,
    );
    const bare = join(dir, 'bare');
    cpSync(ckpt, bare, { recursive: true });
    rmSync(join(bare, 'tokenizer.json'));
    await expect(run({ ...options(join(dir, 'x.jsonl')), checkpoint: bare })).rejects.toThrow(
      /no tokenizer\.json: .*copy the tokenizer\.json and tokenizer_config\.json the checkpoint was trained with into it/,
    );
    await expect(run({ ...options(join(dir, 'x.jsonl')), n: 0 })).rejects.toThrow(/n:/);
    await expect(run(options(bare))).rejects.toThrow(`${bare} is a directory: give --out the path of a JSONL file`);
  });

  it('refuses to resume a file whose answers were sampled for other prompts, or hold an answer twice', async () => {
    // rows without "id" are keyed by file:line: a row added at the top shifts every id
    const edited = join(dir, 'edited.jsonl');
    const rows = [{ prompt: 'First.' }, { prompt: 'Second.' }];
    writeFileSync(edited, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const out = join(dir, 'edited-out.jsonl');
    await run({ ...options(out), prompts: edited });
    writeFileSync(edited, [{ prompt: 'New first.' }, ...rows].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const esc = out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await expect(run({ ...options(out), prompts: edited })).rejects.toThrow(
      new RegExp(`^${esc}:1: this answer \\(id "edited\\.jsonl:1"\\) was sampled for another prompt than the row with that id now holds`),
    );
    // stable ids: the added row is answered, the others are skipped
    const withIds = join(dir, 'with-ids.jsonl');
    writeFileSync(withIds, rows.map((r, i) => JSON.stringify({ id: `p${i}`, ...r })).join('\n') + '\n');
    const out2 = join(dir, 'with-ids-out.jsonl');
    await run({ ...options(out2), prompts: withIds });
    writeFileSync(
      withIds,
      [{ id: 'new', prompt: 'New first.' }, ...rows.map((r, i) => ({ id: `p${i}`, ...r }))].map((r) => JSON.stringify(r)).join('\n') + '\n',
    );
    expect(await run({ ...options(out2), prompts: withIds })).toEqual({
      written: 2,
      skipped: 4,
      prompts: 3,
      tooLong: [],
      format: 'prompt',
    });
    // one answer twice (two runs appending at once)
    const text = readFileSync(out2, 'utf8').split('\n').filter(Boolean);
    writeFileSync(out2, [...text, text[1]].join('\n') + '\n');
    await expect(run({ ...options(out2), prompts: withIds })).rejects.toThrow(
      new RegExp(
        `${out2.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7: answer "\\w+" #\\d is already on line 2: two runs wrote into this file at once\\?`,
      ),
    );
  });

  it('refuses an output another sample run holds', async () => {
    const out = join(dir, 'locked.jsonl');
    writeFileSync(`${out}.lock`, `${process.ppid}\n`); // a live process that is not this one
    await expect(run(options(out))).rejects.toThrow(/is being written by another `lwz-train sample` \(pid \d+/);
    rmSync(`${out}.lock`);
    await run(options(out));
    expect(existsSync(`${out}.lock`)).toBe(false);
  });

  it('names a prompt that fills the context by file:line, or leaves it out with --skip-long', async () => {
    const mixed = join(dir, 'mixed.jsonl');
    const long = 'word '.repeat(3000);
    writeFileSync(
      mixed,
      [{ prompt: 'A short one.' }, { prompt: long }, { prompt: 'Another.' }].map((r) => JSON.stringify(r)).join('\n') + '\n',
    );
    const out = join(dir, 'mixed-out.jsonl');
    await expect(run({ ...options(out), prompts: mixed })).rejects.toThrow(
      new RegExp(`${mixed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: prompt .* tokens .* context holds \\d+: no room .* --skip-long`),
    );
    const r = await run({ ...options(out), prompts: mixed, skipLong: true });
    expect(r.tooLong).toEqual([`${mixed}:2`]);
    expect(r.written).toBe(4);
    expect(new Set(lines(out).map((l) => l.prompt))).toEqual(new Set(['A short one.', 'Another.']));
  });

  it('names a prompt whose answer overflows the KV budget by its file:line, with the --max-new-tokens that fits', async () => {
    const wide = mkdtempSync(join(tmpdir(), 'lwz-sample-kv-'));
    try {
      // an 8192-token context at 256 bytes a token: one answer may need 2 MiB, and --kv-budget-mb 1 holds 4096 tokens
      const big = writeRolloutCheckpoint(wide, 8192);
      const rows = join(wide, 'rows.jsonl');
      const texts = ['word '.repeat(5000), 'A short one.', 'word '.repeat(500)];
      writeFileSync(rows, texts.map((prompt) => JSON.stringify({ prompt })).join('\n') + '\n');
      const opts = { ...options(join(wide, 'out.jsonl')), checkpoint: big, prompts: rows, kvBudgetMb: 1, maxNewTokens: 3000 };
      // the first row left out (longer than the context): the engine counted the third row as "prompt 1"
      const refusal = await run({ ...opts, skipLong: true }).catch((e: Error) => e.message);
      const m =
        /^(.*):3: prompt "[^"]+" is (\d+) tokens .* --kv-budget-mb 1: pass --max-new-tokens (\d+) or less .*raise --kv-budget-mb$/.exec(
          refusal as string,
        );
      expect(m?.[1] ?? refusal).toBe(rows);
      expect(Number(m?.[2]) + Number(m?.[3]) - 1).toBe(4096);
      // a prompt too long for the budget on its own is named first, though a row before it asks too many new tokens:
      // no --max-new-tokens would help it (the every-prompt limit is below 1)
      const alone = join(wide, 'alone.jsonl');
      writeFileSync(alone, [texts[2], 'word '.repeat(1500)].map((prompt) => JSON.stringify({ prompt })).join('\n') + '\n');
      const aloneRefusal = await run({ ...opts, prompts: alone }).catch((e: Error) => e.message);
      expect(aloneRefusal).toMatch(
        /:2: prompt "[^"]+" is \d+ tokens with the think template, more than --kv-budget-mb 1 holds: raise --kv-budget-mb, or shorten it$/,
      );
      expect((aloneRefusal as string).startsWith(`${alone}:2: `)).toBe(true);
    } finally {
      rmSync(wide, { recursive: true, force: true });
    }
  });

  it("--help says --rollout-url is the server's base URL up to /v1, the one serve prints", () => {
    // a user who passed the server root (http://host:port) got a 404 from GET /models
    const program = new Command();
    register(program);
    const help = program.commands.find((c) => c.name() === 'sample')?.options.find((o) => o.long === '--rollout-url')?.description;
    expect(help).toMatch(/up to \/v1/);
  });
});
