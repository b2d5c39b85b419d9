// lwz-train score-rewards on a small sample file: every line keeps its fields and gains the reward fields;
// config files and --set overrides apply; a malformed line or config is an error naming file:line and field,
// and leaves no output file behind; an --out through a link to nothing is named. The chat-judge quality scorer
// (@lwz/judges) runs against the test server.
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestLlmServer } from '@lwz/llm-client/testing';
import { run } from './score-rewards';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-score-rewards-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const answer = (n: number) =>
  Array.from({ length: n }, (_, i) => `w${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + (Math.floor(i / 26) % 26))}`).join(
    ' ',
  );
const lines = [
  {
    id: 's0',
    prompt: 'Write a 100-word note.',
    response: `<think>p</think><answer>${answer(100)}</answer>`,
    finish_reason: 'stop',
    type: 'Letter',
  },
  { id: 's1', prompt: 'Write a 100-word note.', response: `<think>p</think><answer>${answer(45)}</answer>`, finish_reason: 'stop' },
  { id: 's2', prompt: 'Write a poem.', response: `<answer>${answer(150)}`, finish_reason: 'length', length_range: [100, 300] },
];
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const readOut = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('lwz-train score-rewards', () => {
  it('adds target_range, rewards, repetition and the format verdict to every line', async () => {
    const samples = write('samples.jsonl', lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const out = join(dir, 'scored.jsonl');
    const r = await run({ samples, out });
    expect(r.rows).toBe(3);
    const scored = readOut(out);
    expect(scored[0]).toMatchObject({ id: 's0', type: 'Letter', target_range: [90, 110], target_source: 'prompt', answer_words: 100 });
    expect(scored.map((s) => s.rewards)).toEqual([
      { length: 1, format: 1, quality: 0.5 },
      { length: 0.5, format: 1, quality: 0.5 },
      { length: 1, format: 0, quality: 0.5 },
    ]);
    expect(scored[2].format.codes).toEqual(['tag-count', 'tag-count', 'tag-count', 'answer-not-closed']);
    expect(scored[2].target_source).toBe('row');
    expect(Object.keys(scored[0].repetition)).toEqual(['ngram_dup', 'duplicate_paragraphs', 'max_paragraph_overlap', 'penalty']);
    expect(r.monitors['finish/truncated']).toBeCloseTo(1 / 3, 12);
  });

  it('applies a config file and --set overrides', async () => {
    const samples = write(
      'direct.jsonl',
      JSON.stringify({ prompt: 'Write 100 words.', response: `<answer>${answer(150)}</answer>` }) + '\n',
    );
    const config = write('rewards.json', JSON.stringify({ template: 'direct', quality: { options: { value: 0.9 } } }));
    const out = join(dir, 'direct-out.jsonl');
    await run({ samples, out, config, set: ['length.lmax.factor=3'] });
    // L = 150 above hi = 110, Lmax = 3 * 110
    expect(readOut(out)[0].rewards).toEqual({ length: (330 - 150) / (330 - 110), format: 1, quality: 0.9 });
  });

  it("names a line sampled with another template than the config's, and scores it with --set template", async () => {
    const line = { prompt: 'Write 100 words.', response: `<answer>${answer(100)}</answer>`, sampling: { template: 'direct' } };
    const samples = write('sampled-direct.jsonl', JSON.stringify(lines[0]) + '\n' + JSON.stringify(line) + '\n');
    const out = join(dir, 'sampled-direct-out.jsonl');
    await expect(run({ samples, out })).rejects.toThrow(
      `${samples}:2: sampled with the direct template (its "sampling" field), but the rewards config (defaults) scores the think template; add --set template=direct`,
    );
    expect(existsSync(out)).toBe(false);
    await run({ samples: write('direct-only.jsonl', JSON.stringify(line) + '\n'), out, set: ['template=direct'] });
    expect(readOut(out)[0].rewards).toEqual({ length: 1, format: 1, quality: 0.5 });
  });

  it.each([
    ['{"prompt": "a", "response": "b"}\n{"prompt": "a"}\n', /bad\.jsonl:2: field "response" must be a string, got nothing/],
    ['{"prompt": "a", "response": "b", "length_range": [300, 100]}\n', /bad\.jsonl:1: field "length_range" must satisfy 0 <= lo <= hi/],
    ['{"prompt": "a", "response": "b"}\n{"prompt": \n', /bad\.jsonl:2: invalid JSON/],
    ['[1, 2]\n', /bad\.jsonl:1: expected a JSON object/],
    ['\n', /no lines to score/],
  ])('names file:line and field for %j, writing nothing', async (text, message) => {
    const samples = write('bad.jsonl', text);
    const out = join(dir, 'never.jsonl');
    await expect(run({ samples, out })).rejects.toThrow(message);
    expect(existsSync(out)).toBe(false);
  });

  it('names an --out that is a directory before scoring', async () => {
    const samples = write('ok-dir.jsonl', JSON.stringify(lines[0]) + '\n');
    await expect(run({ samples, out: dir })).rejects.toThrow(`--out ${dir} is a directory: give the path of a JSONL file to write`);
  });

  it('names an --out that is a symbolic link to nothing before scoring, and keeps the link', async () => {
    const samples = write('ok-link.jsonl', JSON.stringify(lines[0]) + '\n');
    const out = join(dir, 'linked-out.jsonl');
    symlinkSync('/nonexistent/lwz-out.jsonl', out);
    await expect(run({ samples, out })).rejects.toThrow(
      `cannot write ${out}: it is a symbolic link to /nonexistent/lwz-out.jsonl, which does not exist (is a disk not mounted?)`,
    );
    expect(readlinkSync(out)).toBe('/nonexistent/lwz-out.jsonl');
  });

  it('names the config field that is wrong', async () => {
    const samples = write('ok.jsonl', JSON.stringify(lines[0]) + '\n');
    const config = write('bad-config.json', JSON.stringify({ estimator: { name: 'ppo' } }));
    await expect(run({ samples, out: join(dir, 'x.jsonl'), config })).rejects.toThrow(
      /bad-config\.json:\n {2}- estimator\.name: unknown advantage estimator "ppo"/,
    );
    await expect(run({ samples, out: join(dir, 'x.jsonl'), set: ['combination.weights.length=-1'] })).rejects.toThrow(
      /combination\.weights\.length/,
    );
  });

  it("names a quality scorer's missing options as the config's, before the samples are read (not as the samples file's)", async () => {
    const message = await run({ samples: join(dir, 'not-read.jsonl'), out: join(dir, 'x.jsonl'), set: ['quality.scorer=chat-judge'] }).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(message).toBe(
      'invalid config from quality.options:\n' +
        '  - baseUrls: missing: give the server base URL(s) up to /v1, e.g. "http://127.0.0.1:8000/v1"\n' +
        '  - model: missing: name the served model (GET <baseUrl>/models lists them)',
    );
  });
});

describe('lwz-train score-rewards with the chat-judge quality scorer', () => {
  it('grades each answer through the judge endpoint and maps 1-10 to [0, 1]', async () => {
    const server = await startTestLlmServer({ responder: () => 'Solid work. {"score": 7, "reason": "clear"}' });
    try {
      const samples = write('judged.jsonl', lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const out = join(dir, 'judged-out.jsonl');
      const set = [`quality.scorer=chat-judge`, `quality.options={"baseUrls":"${server.baseUrl}","model":"test-model","timeoutMs":2000}`];
      const r = await run({ samples, out, set });
      expect(r.config.quality.scorer).toBe('chat-judge');
      expect(readOut(out).map((l) => l.rewards.quality)).toEqual([6 / 9, 6 / 9, 6 / 9]);
      expect(server.calls).toBe(3);
    } finally {
      await server.close();
    }
  });

  it('counts the answers the judge gave no usable score from their lines, an exact integer (1 of 49, not 49 * 1/49)', async () => {
    // one answer of 49 gets a reply without a score on every ask: its quality is the stand-in
    const server = await startTestLlmServer({
      responder: (req) =>
        JSON.stringify(req.body.messages).includes('unscorable') ? 'No verdict.' : 'Fine. {"score": 7, "reason": "clear"}',
    });
    try {
      const many = Array.from({ length: 49 }, (_, i) => ({
        prompt: 'Write a 100-word note.',
        response: `<think>p</think><answer>${i === 30 ? 'unscorable' : answer(100)}</answer>`,
      }));
      const samples = write('one-unscored.jsonl', many.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const out = join(dir, 'one-unscored-out.jsonl');
      const options = { baseUrls: server.baseUrl, model: 'test-model', timeoutMs: 2000, maxAttempts: 2 };
      const r = await run({ samples, out, set: ['quality.scorer=chat-judge', `quality.options=${JSON.stringify(options)}`] });
      expect([r.rows, r.qualityFallbacks, r.lengthFallbacks]).toEqual([49, 1, 0]);
      expect(readOut(out).flatMap((l, i) => (l.quality_fallback ? [i] : []))).toEqual([30]);
      // the case the count is for: the monitor's share times the lines is not the integer
      expect(r.monitors['quality/fallback'] * r.rows).not.toBe(1);
    } finally {
      await server.close();
    }
  });

  it('counts the prompts the llm length predictor gave no usable range (their range is the built-in one)', async () => {
    // a judge that never answers in the assessor's {"range": [lo, hi]} form: every ask is rejected, the predictor falls back
    const server = await startTestLlmServer({ responder: () => 'I do not understand the request.' });
    try {
      const noRange = [
        { prompt: 'Tell me about the sea.', response: `<think>p</think><answer>${answer(20)}</answer>` },
        { prompt: 'Write a 100-word note.', response: `<think>p</think><answer>${answer(100)}</answer>` },
      ];
      const samples = write('no-range.jsonl', noRange.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const out = join(dir, 'no-range-out.jsonl');
      const set = [
        'length.predictor.name=llm',
        `length.predictor.options={"baseUrls":"${server.baseUrl}","model":"test-model","timeoutMs":2000}`,
      ];
      const r = await run({ samples, out, set });
      // only the prompt without a stated length asks the predictor (3 asks, all rejected)
      expect(server.calls).toBe(3);
      expect(r.lengthFallbacks).toBe(1);
      expect(readOut(out).map((l) => l.target_source)).toEqual(['predictor', 'prompt']);
      expect(readOut(out).map((l) => l.target_fallback ?? false)).toEqual([true, false]);
      expect(r.monitors['length/predictor_fallback']).toBe(0.5);
      // the built-in predictor's ranges name no fallback
      expect((await run({ samples, out: join(dir, 'no-range-builtin.jsonl') })).lengthFallbacks).toBe(0);
    } finally {
      await server.close();
    }
  });
});
