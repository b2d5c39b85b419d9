// The three commands' run() against the local test judge server: outputs written, the arena's results
// under 30 % server faults equal to a clean run, WritingBench R/C, LongBench-Write with and without a judge,
// and option errors that say what to fix.
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestLlmServer, type TestLlmServer } from '@lwz/llm-client/testing';
import { judgeFlags, readResults, runCommand, startFakeJudge, writeFixture } from '../test-fixtures';
import { jest } from '@jest/globals';
import { Command } from 'commander';
import { run as runArena, register as registerArena } from './arena';
import { run as runWritingBench, register as registerWritingBench } from './writingbench';
import { run as runLongBench, register as registerLongBench } from './longbench-write';

let server: TestLlmServer;
afterEach(async () => server?.close());

describe('lwz-arena arena', () => {
  it('writes the three outputs, and 30 % judge faults give the results of a clean run', async () => {
    const f = writeFixture();
    server = await startFakeJudge();
    const cleanOut = join(f.dir, 'clean');
    const clean = await runArena({ models: f.models, out: cleanOut, lengthControl: true, ...judgeFlags(server.baseUrl) });
    for (const file of ['results.json', 'report.md', 'report.html']) expect(existsSync(join(cleanOut, file))).toBe(true);
    expect(clean.result.players.map((p) => p.name)).toEqual(['strong', 'middle', 'weak']);
    expect(clean.result.judgments).toHaveLength(3 * 6 * 2);
    await server.close();
    server = await startFakeJudge({
      faults: { rate: 0.3, seed: 4, kinds: ['http500', 'http503', 'hang', 'malformed', 'drop'] },
    });
    const faultyOut = join(f.dir, 'faulty');
    await runArena({ models: f.models, out: faultyOut, lengthControl: true, ...judgeFlags(server.baseUrl) });
    expect(Object.values(server.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
    expect(readResults(faultyOut)).toEqual(readResults(cleanOut));
    expect(readFileSync(join(faultyOut, 'report.html'), 'utf8')).toBe(readFileSync(join(cleanOut, 'report.html'), 'utf8'));
  }, 60000);

  it('says what to fix in bad options', async () => {
    const f = writeFixture({ prompts: 2 });
    await expect(
      runArena({ models: [...f.models, 'nofile'], out: f.dir, judgeUrl: 'http://127.0.0.1:9/v1', judgeModel: 'm' }),
    ).rejects.toThrow('--models "nofile": expected NAME=FILE.jsonl');
    await expect(
      runArena({ models: f.models, out: f.dir, levels: '4', judgeUrl: 'http://127.0.0.1:9/v1', judgeModel: 'm' }),
    ).rejects.toThrow(/--levels: must be 3 or 5/);
    await expect(
      runArena({ models: f.models, out: f.dir, bootstrap: '10', judgeUrl: 'http://127.0.0.1:9/v1', judgeModel: 'm' }),
    ).rejects.toThrow(/--bootstrap: at least 100/);
    // --judge-set: a typo or a field a flag sets is named, not ignored; the client's own words become the flags'
    const judge = { models: f.models, out: join(f.dir, 'o'), judgeUrl: 'http://127.0.0.1:9/v1', judgeModel: 'm' };
    await expect(runArena({ ...judge, judgeSet: ['maxRetrys=0'] })).rejects.toThrow(
      /--judge-set maxRetrys: not a judge client setting; valid: .*backoffBaseMs/,
    );
    await expect(runArena({ ...judge, judgeSet: ['model=other'] })).rejects.toThrow('--judge-set model: set it with --judge-model');
    // a bad value --judge-set gave is named as --judge-set's, not as the flag's it replaced
    const setRetries = ((await runArena({ ...judge, judgeSet: ['maxRetries=-1'] }).catch((e: Error) => e)) as Error).message;
    expect(setRetries).toMatch(/--judge-set maxRetries/);
    expect(setRetries).not.toMatch(/--judge-retries/);
    const saved = process.env.LWZ_UNSET_KEY_VAR;
    delete process.env.LWZ_UNSET_KEY_VAR;
    await expect(runArena({ ...judge, judgeKeyEnv: 'LWZ_UNSET_KEY_VAR' })).rejects.toThrow(
      /^--judge-key-env names the environment variable LWZ_UNSET_KEY_VAR, which is not set: .*or remove --judge-key-env/,
    );
    if (saved !== undefined) process.env.LWZ_UNSET_KEY_VAR = saved;
    // an ONNX reward model without its tokenizer beside it: the fix named in the flag's words
    const onnx = join(f.dir, 'rm.onnx');
    writeFileSync(onnx, 'not really a model');
    await expect(runArena({ models: f.models, out: join(f.dir, 'o'), judgeOnnxRm: onnx })).rejects.toThrow(
      /^--judge-onnx-rm: .*tokenizer\.json does not exist; put the reward model's tokenizer\.json beside it$/,
    );
    await expect(runArena({ models: f.models, out: f.dir, judgeUrl: 'http://127.0.0.1:9/v1' })).rejects.toThrow(
      /give both --judge-url and --judge-model/,
    );
    await expect(
      runArena({ models: f.models, out: f.dir, anchor: 'nobody', judgeUrl: 'http://127.0.0.1:9/v1', judgeModel: 'm' }),
    ).rejects.toThrow(/--anchor nobody: not a player; players: strong, middle, weak/);
    await expect(
      runArena({
        models: f.models,
        out: f.dir,
        judgeUrl: 'http://127.0.0.1:9/v1',
        judgeModel: 'm',
        judgeKeyEnv: 'sk-abcdefghijklmnopqrstuvwxyz123456',
      }),
    ).rejects.toThrow(/looks like an API key itself/);
    // --out names a file: refused before any judging
    const file = f.models[0].slice(f.models[0].indexOf('=') + 1);
    await expect(runArena({ models: f.models, out: file, judgeUrl: 'http://127.0.0.1:9/v1', judgeModel: 'm' })).rejects.toThrow(
      `lwz-arena arena: --out ${file} is a file: give a directory`,
    );
  });
});

describe('lwz-arena writingbench', () => {
  it('scores every criterion once, with R and C from the C file', async () => {
    const f = writeFixture();
    server = await startFakeJudge();
    const out = join(f.dir, 'wb');
    const { result } = await runWritingBench({
      responses: f.wbResponses,
      queries: f.wbQueries,
      cQueries: f.wbC,
      out,
      ...judgeFlags(server.baseUrl),
    });
    expect(result.judged).toBe(3);
    expect(result.missing).toEqual(['4']);
    expect(result.perQuery.map((q) => q.criteria.length)).toEqual([3, 3, 3]);
    expect(result.requirement?.queries).toBe(3);
    const lengthScores = result.perQuery.map((q) => q.criteria.find((c) => c.name === 'Length')?.score as number);
    expect(result.requirement?.C).toBeCloseTo(lengthScores.reduce((a, b) => a + b) / 3, 12);
    expect(result.perQuery[2].score).toBeGreaterThan(result.perQuery[0].score); // q=0.7 over q=0.3
    expect(result.perQuery[0].required).toBe(350);
    expect(readResults(out).command).toBe('writingbench');
    // WritingBench's own response files hold {index, response} only: matched by index, the same scores
    const official = join(f.dir, 'wb-official.jsonl');
    writeFileSync(
      official,
      readFileSync(f.wbResponses, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { index: number; response: string })
        .map(({ index, response }) => JSON.stringify({ index, response }))
        .concat([JSON.stringify({ index: 1, response: 'again' }), JSON.stringify({ index: 999, response: 'lost' })])
        .join('\n') + '\n',
    );
    const { result: same, notes } = await runWritingBench({
      responses: official,
      queries: f.wbQueries,
      cQueries: f.wbC,
      out: join(f.dir, 'wb2'),
      ...judgeFlags(server.baseUrl),
    });
    expect(same.perQuery.map((q) => [q.id, q.score])).toEqual(result.perQuery.map((q) => [q.id, q.score]));
    // a repeated index and an unknown one are not judged, and the notes say so
    expect(notes.join('\n')).toMatch(/1 lines of .*wb-official\.jsonl repeat a query already answered/);
    expect(notes.join('\n')).toMatch(/1 lines of .*wb-official\.jsonl match no query and are not judged: 5 \(index "999"\)/);
    // the whole subset's C file beside part of its queries: the other rows are left out; a C file of other queries is refused
    const part = join(f.dir, 'wb-part.jsonl');
    writeFileSync(part, readFileSync(f.wbQueries, 'utf8').split('\n').filter(Boolean).slice(0, 3).join('\n') + '\n');
    const { result: partial } = await runWritingBench({
      responses: f.wbResponses,
      queries: part,
      cQueries: f.wbC,
      out: join(f.dir, 'wb3'),
      ...judgeFlags(server.baseUrl),
    });
    expect(partial.requirement?.C).toBeCloseTo(result.requirement?.C as number, 12);
    const otherC = join(f.dir, 'wb-other-C.jsonl');
    writeFileSync(otherC, JSON.stringify({ ...(JSON.parse(readFileSync(f.wbC, 'utf8').split('\n')[0]) as object), index: 99 }) + '\n');
    await expect(
      runWritingBench({
        responses: f.wbResponses,
        queries: part,
        cQueries: otherC,
        out: join(f.dir, 'wb4'),
        ...judgeFlags(server.baseUrl),
      }),
    ).rejects.toThrow(/the C file shares no query index with the queries file/);
    // an arena has no prompt file to match against: such a line is refused there
    await expect(
      runArena({ models: [`a=${official}`, `b=${official}`], out: join(f.dir, 'ar'), ...judgeFlags(server.baseUrl) }),
    ).rejects.toThrow(/wb-official\.jsonl:1: needs the prompt as a string field "prompt"/);
    await expect(runWritingBench({ responses: f.wbResponses, queries: f.lbResponses, out, ...judgeFlags(server.baseUrl) })).rejects.toThrow(
      /--queries .*expected WritingBench rows .* detected longbench-write/,
    );
  });

  it('names the files and the first line when no response matches a query, before any judging', async () => {
    const f = writeFixture({ prompts: 2 });
    const responses = join(f.dir, 'wb-wrong.jsonl');
    const dead = { judgeUrl: 'http://127.0.0.1:9/v1', judgeModel: 'm', quiet: true };
    const wb = (line: object) => {
      writeFileSync(responses, JSON.stringify(line) + '\n');
      return runWritingBench({ responses, queries: f.wbQueries, out: join(f.dir, 'wb-wrong'), ...dead });
    };
    const head = `${responses}: no line matches a query of ${f.wbQueries} (by its index with the same query text, or by the query text); line 1`;
    await expect(wb({ index: 99, response: 'x' })).rejects.toThrow(
      `${head} has the index "99", which no query has (the queries' indexes: 1, 2, 3, 4)`,
    );
    await expect(wb({ index: 1, query: 'Another query', response: 'x' })).rejects.toThrow(
      `${head} has the index "1", whose query in ${f.wbQueries} (line 1) has another text: are these the answers to these queries?`,
    );
    await expect(wb({ prompt: 'Another query', response: 'x' })).rejects.toThrow(`${head} has no index and a query text no row has`);
  });
});

describe('judge flags', () => {
  it('read the key from the named variable only: it reaches the server and no output or cache file', async () => {
    const f = writeFixture({ prompts: 2 });
    const key = 'sk-test-0123456789abcdefSECRET';
    process.env.LWZ_TEST_JUDGE_KEY = key;
    try {
      server = await startFakeJudge({ apiKey: key });
      const out = join(f.dir, 'keyed');
      await runArena({ models: f.models, out, judgeKeyEnv: 'LWZ_TEST_JUDGE_KEY', ...judgeFlags(server.baseUrl) });
      expect(server.requests[0].headers.authorization).toBe(`Bearer ${key}`);
      const files = readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      expect(files.length).toBeGreaterThan(3);
      for (const e of files) expect(readFileSync(join(e.parentPath, e.name), 'utf8')).not.toContain('SECRET');
    } finally {
      delete process.env.LWZ_TEST_JUDGE_KEY;
    }
  });

  it("take a user's critic template in WritingBench's own syntax", async () => {
    const f = writeFixture({ prompts: 2 });
    const template = join(f.dir, 'critic.txt');
    writeFileSync(
      template,
      '** Criteria **\n```{criteria}```\n<response>\n{response}\n</response>\nScore from {min} to {max}: integer from {min} to {max}\n{{"score": 5}}',
    );
    server = await startFakeJudge();
    const { result } = await runWritingBench({
      responses: f.wbResponses,
      queries: f.wbQueries,
      judgeTemplate: template,
      out: join(f.dir, 'wbt'),
      ...judgeFlags(server.baseUrl),
    });
    // requests go out several at a time, so the first criterion's is any one of them, not requests[0]; a re-ask
    // (an unusable reply) carries the first request's message, the reply and a correction
    const sent = server.requests.map((r) => (r.body as { messages: { role: string; content: string }[] }).messages);
    const firstAsks = sent.filter((m) => m.length === 1);
    expect(firstAsks.length).toBeGreaterThan(0);
    for (const messages of sent) {
      expect(messages[0].content).toMatch(/^\*\* Criteria \*\*\n```Name: /);
      expect(messages[0].content.endsWith('{"score": 5}')).toBe(true);
    }
    expect(firstAsks.some((m) => /^\*\* Criteria \*\*\n```Name: Content\n/.test(m[0].content))).toBe(true);
    expect(result.judge).toMatch(/@custom-[0-9a-f]{8}\/1-10$/);
    // a system message of the user's with the built-in template: another judge, and its id says so
    const system = join(f.dir, 'system.txt');
    writeFileSync(system, 'You are a strict critic.');
    const { result: withSystem } = await runWritingBench({
      responses: f.wbResponses,
      queries: f.wbQueries,
      judgeSystem: system,
      out: join(f.dir, 'wbs'),
      ...judgeFlags(server.baseUrl),
    });
    expect(withSystem.judge).toMatch(/@critic-1\+system-[0-9a-f]{8}\/1-10$/);
    const { result: lbSystem } = await runLongBench({
      responses: f.lbResponses,
      judgeSystem: system,
      out: join(f.dir, 'lbs'),
      ...judgeFlags(server.baseUrl),
    });
    expect(lbSystem.judge).toMatch(/@lbw-quality-1\+system-[0-9a-f]{8}\/1-5$/);
    writeFileSync(template, 'Rate {answer}');
    await expect(
      runWritingBench({
        responses: f.wbResponses,
        queries: f.wbQueries,
        judgeTemplate: template,
        out: f.dir,
        ...judgeFlags(server.baseUrl),
      }),
    ).rejects.toThrow(/unknown placeholder\(s\) \{answer\}/);
  });
});

/** The fixture's LongBench-Write lines, and a prompt file of their rows (id, prompt, type, length). */
function withPromptFile() {
  const f = writeFixture();
  const rows = readFileSync(f.lbResponses, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const prompts = join(f.dir, 'lb-prompts.jsonl');
  writeFileSync(prompts, rows.map(({ id, prompt, type, length }) => JSON.stringify({ id, prompt, type, length })).join('\n') + '\n');
  return { f, rows, prompts };
}

describe('lwz-arena longbench-write', () => {
  it('names an --out that is a symbolic link to nothing, instead of an ENOENT from mkdir', async () => {
    const f = writeFixture();
    const out = join(f.dir, 'linked');
    symlinkSync('/nonexistent/lwz-eval', out);
    await expect(runLongBench({ responses: f.lbResponses, out, quiet: true })).rejects.toThrow(
      `cannot write ${out}: it is a symbolic link to /nonexistent/lwz-eval, which does not exist`,
    );
  });

  it('gives S_l without a judge, and S_q and overall with one', async () => {
    const f = writeFixture();
    const { result: plain } = await runLongBench({ responses: f.lbResponses, out: join(f.dir, 'lb0'), quiet: true });
    expect(plain.perAnswer.map((a) => a.words)).toEqual([52, 722, 3902, 10202]); // "Answer q" + the filler words
    expect(plain.S_q).toBeUndefined();
    server = await startFakeJudge();
    const { result } = await runLongBench({ responses: f.lbResponses, out: join(f.dir, 'lb1'), ...judgeFlags(server.baseUrl) });
    expect(result.S_l).toBeCloseTo(plain.S_l, 12);
    expect(result.perAnswer.every((a) => a.dimensions?.length === 6)).toBe(true);
    expect(result.perAnswer[3].S_q).toBeGreaterThan(result.perAnswer[0].S_q as number);
    expect(result.overall).toBeCloseTo((result.S_l + (result.S_q as number)) / 2, 12);
    const user = (server.requests[0].body as { messages: { role: string; content: string }[] }).messages;
    expect(user.map((m) => m.role)).toEqual(['user']);
    expect(user[0].content).toContain('Ignore whether the response meets any length requirement');
    expect(result.judge).toBe('chat-criteria:test-model@lbw-quality-1/1-5');
    const saved = readResults(join(f.dir, 'lb1')) as { perAnswer: Record<string, unknown>[] };
    expect(Object.keys(saved.perAnswer[0]).sort()).toEqual(['S_l', 'S_q', 'dimensions', 'id', 'required', 'textSource', 'type', 'words']);
  });

  it('takes lines with only an id and the response when --prompts gives the rows, and records the rows left unanswered', async () => {
    const { f, rows, prompts } = withPromptFile();
    const bare = join(f.dir, 'lb-bare.jsonl');
    writeFileSync(
      bare,
      rows
        .slice(0, 3)
        .map(({ id, response }) => JSON.stringify({ id, response }))
        .join('\n') + '\n',
    );
    const { result } = await runLongBench({ responses: bare, prompts, out: join(f.dir, 'lb-bare'), quiet: true });
    const { result: full } = await runLongBench({ responses: f.lbResponses, out: join(f.dir, 'lb-full'), quiet: true });
    expect(result.perAnswer.map((a) => [a.id, a.required, a.S_l])).toEqual(
      full.perAnswer.slice(0, 3).map((a) => [a.id, a.required, a.S_l]),
    );
    // S_l is over the answered rows: results.json and report.md say which prompt went without, not only stderr
    expect(result.unanswered).toEqual([rows[3].id]);
    expect(readResults(join(f.dir, 'lb-bare')).unanswered).toEqual([rows[3].id]);
    const md = readFileSync(join(f.dir, 'lb-bare', 'report.md'), 'utf8');
    expect(md).toContain('- answers: 3 of 4 prompts (1 without a response, not scored)');
    expect(md).toMatch(new RegExp(`## Prompts without a response\\s+- ${rows[3].id}`));
    writeFileSync(bare, JSON.stringify({ id: 'nobody', response: 'x' }) + '\n');
    await expect(runLongBench({ responses: bare, prompts, out: join(f.dir, 'lb-x'), quiet: true })).rejects.toThrow(
      /lb-bare\.jsonl: no line matches a row of .*lb-prompts\.jsonl .*line 1 has the id "nobody" and no prompt/,
    );
  });

  it('scores one answer per prompt row: a repeated or unknown line is named in a note, not scored', async () => {
    const { f, rows, prompts } = withPromptFile();
    // another tool's file: no ids, the first prompt answered twice, one prompt the rows do not have
    const other = join(f.dir, 'other.jsonl');
    const lines = [...rows, rows[0], { ...rows[1], prompt: 'A prompt of some other set' }].map(({ prompt, response, length }) => ({
      prompt,
      response,
      length,
    }));
    writeFileSync(other, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const { result, notes } = await runLongBench({ responses: other, prompts, out: join(f.dir, 'lb-other'), quiet: true });
    expect(result.answers).toBe(rows.length - 1); // the repeated prompt cannot be told apart: not scored, and counted unanswered
    expect(result.unanswered).toHaveLength(1);
    expect(notes.join('\n')).toMatch(
      /3 lines of .*other\.jsonl match no row of .*lb-prompts\.jsonl and are not scored \(lines 1, 5, 6\); 2 of them repeat a prompt text/,
    );
    // without --prompts every line is an answer of its own, and the note says which repeat
    const { result: loose, notes: looseNotes } = await runLongBench({ responses: other, out: join(f.dir, 'lb-loose'), quiet: true });
    expect(loose.answers).toBe(lines.length);
    expect(looseNotes.join('\n')).toMatch(/1 prompts are on more than one line of .*other\.jsonl \(lines 1, 5\)/);
    // further samples of a prompt (same id, a higher sample_index) are not scored, and the note says so
    const samples = join(f.dir, 'samples.jsonl');
    writeFileSync(samples, [0, 1].map((k) => JSON.stringify({ ...rows[0], sample_index: k })).join('\n') + '\n');
    const { result: one, notes: sampleNotes } = await runLongBench({ responses: samples, out: join(f.dir, 'lb-samples'), quiet: true });
    expect(one.answers).toBe(1);
    expect(sampleNotes.join('\n')).toMatch(
      /1 lines of .*samples\.jsonl repeat a prompt already answered .* the lowest sample_index, is scored/,
    );
  });

  it("judges a reasoning model's reply by the text after </think>, and says which part was judged", async () => {
    const f = writeFixture();
    const think = join(f.dir, 'think.jsonl');
    const words = Array.from({ length: 300 }, () => 'word').join(' ');
    writeFileSync(
      think,
      JSON.stringify({ prompt: 'Write 300 words.', response: `<think>\nLet me plan\n</think>\n\n${words}`, length: 300 }) + '\n',
    );
    const { result, notes } = await runLongBench({ responses: think, out: join(f.dir, 'lb-think'), quiet: true });
    expect([result.perAnswer[0].words, result.S_l]).toEqual([300, 100]);
    expect(notes).toContain('judged text: 1 from the text after </think>');
  });

  it('reports a required-length bucket without answers as "-", not NaN', async () => {
    const f = writeFixture();
    const one = join(f.dir, 'one.jsonl');
    writeFileSync(one, readFileSync(f.lbResponses, 'utf8').split('\n')[0] + '\n');
    const { result } = await runLongBench({ responses: one, out: join(f.dir, 'lb-one'), quiet: true });
    expect(result.buckets.filter((b) => b.answers === 0).length).toBeGreaterThan(0);
    const md = readFileSync(join(f.dir, 'lb-one', 'report.md'), 'utf8');
    expect(md).not.toContain('NaN');
    expect(md).toContain('| 0 | - |');
  });

  it("takes no infinite required length (JSON 1e400) as the line's own", async () => {
    const f = writeFixture();
    const huge = join(f.dir, 'huge.jsonl');
    writeFileSync(huge, '{"prompt": "Write.", "response": "x", "length": 1e400}\n');
    await expect(runLongBench({ responses: huge, out: join(f.dir, 'lb-huge'), quiet: true })).rejects.toThrow(
      /huge\.jsonl:1: no required length: the line has no positive "length" field/,
    );
    expect(existsSync(join(f.dir, 'lb-huge'))).toBe(false);
  });
});

describe('a judge whose replies are never usable', () => {
  it('fails each command after writing its outputs, instead of printing ratings or scores made of nothing', async () => {
    const f = writeFixture({ prompts: 2 });
    server = await startTestLlmServer({ responder: () => ({ text: 'I decline to judge.' }) });
    const flags = ['--judge-url', server.baseUrl, '--judge-model', 'test-model', '--judge-attempts', '1', '--quiet'];
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const cli = (register: (p: Command) => void, argv: string[]) => runCommand(register, [...argv, ...flags]);
      const arenaOut = join(f.dir, 'none-arena');
      await expect(cli(registerArena, ['arena', '--models', ...f.models.slice(0, 2), '--out', arenaOut])).rejects.toThrow(
        /^lwz-arena arena: none of the 4 judgments had a usable reply, so nothing was scored/,
      );
      expect(existsSync(join(arenaOut, 'report.html'))).toBe(true);
      await expect(
        cli(registerWritingBench, [
          'writingbench',
          '--responses',
          f.wbResponses,
          '--queries',
          f.wbQueries,
          '--out',
          join(f.dir, 'none-wb'),
        ]),
      ).rejects.toThrow(/^lwz-arena writingbench: none of the 9 criterion judgments had a usable reply/);
      await expect(
        cli(registerLongBench, ['longbench-write', '--responses', f.lbResponses, '--out', join(f.dir, 'none-lb')]),
      ).rejects.toThrow(/^lwz-arena longbench-write: none of the 24 quality judgments had a usable reply/);
      expect(log.mock.calls.map((c) => String(c[0])).join('\n')).not.toMatch(/NaN/);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  });
});
