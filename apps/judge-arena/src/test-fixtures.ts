// Small input files for the lwz-arena tests, in the real formats (sample lines, WritingBench v2 rows with a
// C file, LongBench-Write rows): answers carry a hidden `q=` quality the fake judge reads. `hostile` puts
// markup and scripts into prompts, answers and model names, for the escaping checks.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { fakeJudgeResponder } from '@lwz/judges/testing';
import { startTestLlmServer, type TestLlmServer, type TestLlmServerOptions } from '@lwz/llm-client/testing';

export const quality = (t: string): number => Number(/q=([\d.]+)/.exec(t)?.[1] ?? 0.5);

/** The local test judge server with the fake judge that reads each answer's `q=` quality; `options` add faults, a key, latency. */
export const startFakeJudge = (options: Omit<TestLlmServerOptions, 'responder'> = {}): Promise<TestLlmServer> =>
  startTestLlmServer({ responder: fakeJudgeResponder({ quality }), ...options });

/** The chat judge's flags for a command's run() against the local test judge server at `baseUrl`: quick retries. */
export const judgeFlags = (baseUrl: string) => ({
  judgeUrl: baseUrl,
  judgeModel: 'test-model',
  judgeTimeoutMs: '1000',
  judgeSet: ['backoffBaseMs=2', 'maxRetries=10'],
  quiet: true,
});

/** A command's results.json in `out`. */
export const readResults = (out: string) => JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Record<string, unknown>;

const EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold?</b> & "quotes"';

const jsonl = (rows: readonly object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

export interface Fixture {
  dir: string;
  models: string[];
  wbResponses: string;
  wbQueries: string;
  wbC: string;
  lbResponses: string;
}

export function writeFixture(opts: { prompts?: number; hostile?: boolean } = {}): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'lwz-arena-cli-'));
  const n = opts.prompts ?? 6;
  // hostile: markup, scripts and one very long unbroken token (which must wrap, not widen the page)
  const evil = opts.hostile ? ` ${EVIL} ${'unbroken'.repeat(400)}` : '';
  const strengths: Record<string, number> = { strong: 0.85, middle: 0.5, weak: 0.15 };
  const models = Object.entries(strengths).map(([name, s]) => {
    const file = join(dir, `${name}.jsonl`);
    const rows = Array.from({ length: n }, (_, i) => {
      const q = Math.min(1, Math.max(0, s + (((i * 7) % 5) - 2) * 0.12));
      const answer = `${name} writes piece ${i} q=${q.toFixed(2)}${evil} ${'more words '.repeat(30 + 20 * i)}`;
      return {
        id: `p${i}`,
        sample_index: 0,
        prompt: `Write a ${200 + 100 * i}-word story number ${i}.${evil}`,
        response: `<think>plan</think><answer>${answer}</answer>`,
        think: 'plan',
        answer,
        answer_words: 0,
        token_ids: [1, 2, 3],
        finish_reason: 'stop',
        length: 200 + 100 * i,
        type: 'Fiction',
      };
    });
    writeFileSync(file, jsonl(rows));
    return `${opts.hostile && name === 'weak' ? `<i>weak</i>` : name}=${file}`;
  });
  const crit = (name: string) => ({ name, criteria_description: `Judges ${name}.${evil}`, '1-2': 'poor', '9-10': 'excellent' });
  const wbRows = Array.from({ length: 4 }, (_, i) => ({
    index: i + 1,
    domain1: i < 2 ? 'Education' : 'Literature & Arts',
    domain2: i % 2 ? 'Lesson Plans' : 'Stories',
    query: `Write text ${i} of 300-400 words.${evil}`,
    checklist: ['Content', 'Style', 'Length'].map(crit),
  }));
  const wbQueries = join(dir, 'wb.jsonl');
  const wbC = join(dir, 'wb_C.jsonl');
  writeFileSync(wbQueries, jsonl(wbRows));
  writeFileSync(wbC, jsonl(wbRows.map((r) => ({ ...r, checklist: [crit('Length')] }))));
  const wbResponses = join(dir, 'wb-responses.jsonl');
  writeFileSync(
    wbResponses,
    jsonl(
      wbRows.slice(0, 3).map((r, i) => ({
        index: r.index,
        query: r.query,
        response: `Answer ${i} q=0.${3 + 2 * i}${evil} ${'text '.repeat(300 + 40 * i)}`,
      })),
    ),
  );
  const lbResponses = join(dir, 'lb.jsonl');
  writeFileSync(
    lbResponses,
    jsonl(
      [100, 800, 3000, 6000].map((length, i) => ({
        id: `lb${i}`,
        prompt: `Write about ${length} words on topic ${i}.${evil}`,
        type: 'Popular Science',
        length,
        response: `Answer q=0.${2 + 2 * i}${evil} ${'word '.repeat(Math.round(length * (0.5 + 0.4 * i)))}`,
      })),
    ),
  );
  return { dir, models, wbResponses, wbQueries, wbC, lbResponses };
}

/** Run one lwz-arena command as the CLI does: commander parses `argv` (its defaults filled in) and calls the action. */
export async function runCommand(register: (program: Command) => void, argv: readonly string[]): Promise<void> {
  const program = new Command().exitOverride();
  register(program);
  await program.parseAsync([...argv], { from: 'user' });
}
