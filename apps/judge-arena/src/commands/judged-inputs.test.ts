// What lwz-arena sends to the judge and what it refuses to send: an empty WritingBench response costs no judge
// call (its criteria score the minimum, and the outputs list it), the judged text is the answer and never the plan
// (results.json, the report and a note say which part of each line it was), and flags that the chosen judge would
// not use (the RM tie margin beside a chat judge, chat flags with no chat judge) are refused before any judging.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { Command } from 'commander';
import type { TestLlmServer } from '@lwz/llm-client/testing';
import { judgeFlags, readResults, runCommand, startFakeJudge, writeFixture } from '../test-fixtures';
import { run as runArena, register as registerArena } from './arena';
import { run as runWritingBench } from './writingbench';
import { run as runLongBench, register as registerLongBench } from './longbench-write';

let server: TestLlmServer;
afterEach(async () => server?.close());

describe('lwz-arena writingbench input', () => {
  it('sends no empty response to the judge: its criteria score 1, and results.json, the report and a note list it', async () => {
    const f = writeFixture();
    server = await startFakeJudge();
    const { result: base } = await runWritingBench({
      responses: f.wbResponses,
      queries: f.wbQueries,
      out: join(f.dir, 'wb-base'),
      ...judgeFlags(server.baseUrl),
    });
    const baseCalls = server.calls; // 9 criteria, and the fake judge's re-asks
    await server.close();
    server = await startFakeJudge();
    const withEmpty = join(f.dir, 'wb-empty.jsonl');
    writeFileSync(withEmpty, readFileSync(f.wbResponses, 'utf8') + JSON.stringify({ index: 4, response: ' \n\t ' }) + '\n');
    const out = join(f.dir, 'wb-empty');
    const { result, notes } = await runWritingBench({ responses: withEmpty, queries: f.wbQueries, out, ...judgeFlags(server.baseUrl) });
    expect(server.calls).toBe(baseCalls); // none for the empty response, the others as before
    expect(server.requests.filter((r) => r.prompt.includes('Write text 3 of'))).toEqual([]);
    expect(server.requests.filter((r) => r.prompt.includes('Write text 0 of')).length).toBeGreaterThanOrEqual(3);
    expect(result.perQuery.slice(0, 3)).toEqual(base.perQuery);
    expect(result.perQuery[3].criteria).toEqual(
      ['Content', 'Style', 'Length'].map((name) => ({ name, score: 1, reason: 'empty response: not sent to the judge', specific: false })),
    );
    expect([result.empty, result.missing]).toEqual([['4'], []]);
    expect(readResults(out).empty).toEqual(['4']);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('- empty responses (not sent to the judge; each criterion scored the minimum): 1: 4');
    expect(md).toMatch(/## Empty responses: not sent to the judge, every criterion scored 1\s+- 4/);
    expect(notes.join('\n')).toMatch(/1 responses are empty \(or whitespace only\) and were not sent to the judge: .*\(indexes 4\)/);
  });

  it('judges the answer, never the plan, and says which part of each line it judged', async () => {
    const f = writeFixture();
    const rows = readFileSync(f.wbResponses, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { index: number; query: string; response: string });
    // a sample line (response = the whole completion, answer = its <answer> part), the same cut off before </answer>
    // with no answer field, and another tool's plain response
    const samples = join(f.dir, 'wb-samples.jsonl');
    const think = (text: string) => `<think>\nPLAN-NOT-JUDGED\n</think>\n<answer>\n${text}`;
    writeFileSync(
      samples,
      [
        { ...rows[0], response: `${think(rows[0].response)}\n</answer>`, answer: rows[0].response },
        { ...rows[1], response: think(rows[1].response) },
        rows[2],
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    server = await startFakeJudge();
    const out = join(f.dir, 'wb-samples');
    const { result, notes } = await runWritingBench({ responses: samples, queries: f.wbQueries, out, ...judgeFlags(server.baseUrl) });
    const { result: plain } = await runWritingBench({
      responses: f.wbResponses,
      queries: f.wbQueries,
      out: join(f.dir, 'wb-plain'),
      ...judgeFlags(server.baseUrl),
    });
    expect(server.requests.some((r) => /PLAN-NOT-JUDGED|<\/?answer>|<\/?think>/.test(r.prompt))).toBe(false);
    expect(result.perQuery.map((q) => [q.score, q.words])).toEqual(plain.perQuery.map((q) => [q.score, q.words]));
    const saved = readResults(out) as { judgedText: unknown; perQuery: { textSource: string }[] };
    expect(saved.judgedText).toEqual({ answer: 1, 'answer-block': 1, response: 1 });
    expect(saved.perQuery.map((q) => q.textSource)).toEqual(['answer', 'answer-block', 'response']);
    const judged = "1 from the line's answer field, 1 from the <answer> block, 1 from the whole response";
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(
      '- judged text: 1 from the line&#39;s answer field, 1 from the &lt;answer&gt; block, 1 from the whole response',
    );
    expect(notes).toContain(`judged text: ${judged}`);
    // LongBench-Write counts its words on the same text the judge sees
    const lbFile = join(f.dir, 'lb-samples.jsonl');
    const answer = Array.from({ length: 300 }, () => 'word').join(' ');
    writeFileSync(lbFile, JSON.stringify({ prompt: 'Write 300 words.', response: think(answer), length: 300 }) + '\n');
    const { result: lb } = await runLongBench({ responses: lbFile, out: join(f.dir, 'lb-samples'), quiet: true });
    expect([lb.perAnswer[0].words, lb.S_l, lb.judgedText]).toEqual([300, 100, { 'answer-block': 1 }]);
  });
});

describe('lwz-arena arena input', () => {
  it("says per model which part of its lines was judged: the sample lines' answer field", async () => {
    const f = writeFixture({ prompts: 2 });
    server = await startFakeJudge();
    const out = join(f.dir, 'arena');
    const { notes } = await runArena({ models: f.models, out, ...judgeFlags(server.baseUrl) });
    expect(readResults(out).judgedText).toEqual({ strong: { answer: 2 }, middle: { answer: 2 }, weak: { answer: 2 } });
    expect(notes).toContain("strong: judged text: 2 from the line's answer field");
    expect(server.requests.some((r) => /<\/?think>|<\/?answer>/.test(r.prompt))).toBe(false);
  });
});

/** Run a command as the CLI does (commander's defaults filled in, its action called), output silenced. */
async function cli(register: (p: Command) => void, argv: string[]): Promise<void> {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    await runCommand(register, argv);
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

describe('judge flags that the chosen judge would not use', () => {
  it('refuses --judge-rm-tie-margin with a chat judge, before any judge call; its default is no use of it', async () => {
    const f = writeFixture({ prompts: 2 });
    server = await startFakeJudge();
    const chat = ['--judge-url', server.baseUrl, '--judge-model', 'test-model', '--quiet'];
    const arena = (out: string, extra: string[] = []) =>
      cli(registerArena, ['arena', '--models', ...f.models.slice(0, 2), '--out', join(f.dir, out), ...chat, ...extra]);
    const refused =
      /^--judge-rm-tie-margin applies only with --judge-rm or --judge-onnx-rm .*: remove --judge-rm-tie-margin, or judge with --judge-rm DIR \/ --judge-onnx-rm FILE$/;
    await expect(arena('margin', ['--judge-rm-tie-margin', '0.1'])).rejects.toThrow(refused);
    await expect(arena('margin', ['--judge-rm-tie-margin', '0.02'])).rejects.toThrow(refused); // the default's value, given
    await expect(
      runArena({ models: f.models.slice(0, 2), out: join(f.dir, 'margin'), judgeRmTieMargin: '0.1', ...judgeFlags(server.baseUrl) }),
    ).rejects.toThrow(refused);
    expect(server.calls).toBe(0);
    await arena('plain'); // the flag's default alone: the chat judge runs
    expect(server.calls).toBeGreaterThan(0);
  });

  it('refuses the chat judge flags in longbench-write without a judge; their defaults alone are no use of them', async () => {
    const f = writeFixture({ prompts: 2 });
    const lb = (out: string, extra: string[] = []) =>
      cli(registerLongBench, ['longbench-write', '--responses', f.lbResponses, '--out', join(f.dir, out), '--quiet', ...extra]);
    await expect(lb('lb-attempts', ['--judge-attempts', '5', '--judge-concurrency', '2'])).rejects.toThrow(
      'lwz-arena longbench-write: --judge-concurrency, --judge-attempts set the quality judge, which runs only with --judge-url and --judge-model: add them for S_q, or remove them (S_l alone needs no judge)',
    );
    const template = join(f.dir, 'quality.txt');
    writeFileSync(template, 'Grade {response} from {min} to {max}');
    await expect(
      runLongBench({ responses: f.lbResponses, out: join(f.dir, 'lb-t'), judgeTemplate: template, quiet: true }),
    ).rejects.toThrow(/^lwz-arena longbench-write: --judge-template sets the quality judge, .* or remove it/);
    expect(existsSync(join(f.dir, 'lb-attempts'))).toBe(false);
    await lb('lb-plain');
    expect(existsSync(join(f.dir, 'lb-plain', 'results.json'))).toBe(true);
  });
});
