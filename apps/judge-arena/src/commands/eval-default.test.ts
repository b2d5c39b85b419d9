// eval-default on fixture run directories (small heldout-*.jsonl files as `lwz-train train` writes them) with
// a tiny random reward model: outputs and the printed leaderboard, S_l / format / words against the lines,
// every RM verdict agreeing with the RM's own scores, a missing ablation noted, a missing default run refused,
// and a rerun scoring nothing (judgment cache). Also `arena --judge-rm` and its conflicts with a chat judge.
import { jest } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuiltinRmScorer, labelFromScores } from '@lwz/judges';
import { writeTinyRewardModel } from '@lwz/judges/testing';
import { lengthScore } from '@lwz/eval';
import { countWords } from '@lwz/tokenizer';
import { runCommand, writeFixture } from '../test-fixtures';
import { run as runEvalDefault, register } from './eval-default';
import { run as runArena, register as registerArena } from './arena';

const PROMPTS = [
  ['h0', 'Write a 40-word note about the harbour.', [36, 44]],
  ['h1', 'Write between 20 and 30 words on the grey sky.', [20, 30]],
  ['h2', 'Compose a 60-word story about a calm sea.', [54, 66]],
  ['h3', 'Write a 12-word line about reading aloud.', [11, 13]],
] as const;
const WORDS = 'the sea was calm and the sky was grey she wrote a long story about the harbour then read it aloud'.split(' ');
const text = (n: number, shift: number) => Array.from({ length: n }, (_, i) => WORDS[(i + shift) % WORDS.length]).join(' ');

interface Line {
  id: string;
  prompt: string;
  response: string;
  answer_words: number;
  target_range: readonly [number, number];
  format_valid: boolean;
  s_l: number;
}

/** Held-out lines: answer k has `sizes[k]` words; `broken` answers have no <answer> block (0 answer words). */
function heldout(file: string, template: 'think' | 'direct', sizes: number[], shift: number, broken: number[] = []): Line[] {
  const lines = PROMPTS.map(([id, prompt, range], k) => {
    const answer = text(sizes[k], shift + k);
    const bad = broken.includes(k);
    const response = bad
      ? answer
      : template === 'think'
        ? `<think>\nplan\n</think>\n<answer>\n${answer}\n</answer>`
        : `<answer>\n${answer}\n</answer>`;
    const words = bad ? 0 : countWords(answer);
    return {
      id,
      prompt,
      response,
      answer_words: words,
      target_range: range,
      format_valid: !bad,
      s_l: lengthScore((range[0] + range[1]) / 2, words),
    };
  });
  writeFileSync(
    file,
    lines.map((l) => JSON.stringify({ ...l, rewards: { length: 0, format: 0, quality: 0.5 }, finish_reason: 'stop' })).join('\n') + '\n',
  );
  return lines;
}

function runDir(root: string, name: string, template: 'think' | 'direct'): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ name, template }));
  return dir;
}

let root: string;
let rm: string;
let lines: Record<string, Line[]>;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lwz-eval-default-'));
  rm = writeTinyRewardModel(root, 'rm');
  const runs = join(root, 'runs');
  const main = runDir(runs, 'grpo-tiny', 'think');
  const direct = runDir(runs, 'grpo-tiny-direct', 'direct');
  lines = {
    base: heldout(join(main, 'heldout-base.jsonl'), 'think', [5, 8, 3, 30], 0, [2]),
    rl: heldout(join(main, 'heldout-rl.jsonl'), 'think', [38, 26, 50, 12], 3),
    'rl-direct': heldout(join(direct, 'heldout-rl.jsonl'), 'direct', [44, 18, 70, 14], 7, [1]),
  };
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('lwz-arena eval-default', () => {
  it('writes the reports, prints the leaderboard, notes the missing ablation; a rerun scores nothing', async () => {
    const out = join(root, 'out');
    const argv = ['eval-default', '--runs', join(root, 'runs'), '--rm', rm, '--out', out, '--bootstrap', '100', '--quiet'];
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const scored = jest.spyOn(BuiltinRmScorer.prototype, 'score');
    try {
      await runCommand(register, argv);
      const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
      // an end the data do not bound (a player that won every battle in >= 2.5 % of resamples: 4 prompts here) reads inf
      for (const m of ['base', 'rl', 'rl-direct']) expect(printed).toMatch(new RegExp(`^${m} +\\d+ \\[\\d+, (\\d+|inf)\\]`, 'm'));
      expect(printed).not.toMatch(/rl-from-random/);
      expect(err.mock.calls.map((c) => String(c[0]))).toContainEqual(expect.stringMatching(/^note: rl-from-random: .*not found/));
      expect(scored.mock.calls.length).toBeGreaterThan(0);

      for (const f of [
        'results.json',
        'report.md',
        'report.html',
        'arena/results.json',
        'arena/report.html',
        'longbench-write/rl-direct/report.md',
      ])
        expect(existsSync(join(out, f))).toBe(true);
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      expect(results.notes).toEqual([expect.stringMatching(/^rl-from-random: .*grpo-tiny-base.* not found/)]);
      expect(results.judge).toMatch(/^scorer-pairwise:builtin-rm:rm@[0-9a-f]+#/);
      expect(results.judge).not.toContain(root);
      const board = results.leaderboard as { model: string; elo: number; S_l: number; formatValid: number; answerWords: number }[];
      expect(board.map((r) => r.model).sort()).toEqual(['base', 'rl', 'rl-direct']);
      for (const r of board) {
        // the numbers the training's held-out evaluation wrote per line
        expect(r.S_l).toBeCloseTo(mean(lines[r.model].map((l) => l.s_l)), 9);
        expect(r.formatValid).toBeCloseTo(mean(lines[r.model].map((l) => (l.format_valid ? 1 : 0))), 12);
        expect(r.answerWords).toBeCloseTo(mean(lines[r.model].map((l) => l.answer_words)), 12);
      }
      expect(board.find((r) => r.model === 'base')?.elo).toBeCloseTo(1000, 6);
      expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\| rl-direct \|/);

      // every verdict is the RM's: the higher score wins, a difference under 0.02 is a tie
      const arena = JSON.parse(readFileSync(join(out, 'arena', 'results.json'), 'utf8'));
      expect(arena.judgments).toHaveLength(4 * 3 * 2);
      const answers = (m: string) =>
        new Map(
          readFileSync(join(out, 'answers', `${m}.jsonl`), 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l))
            .map((r) => [r.id, r.answer as string]),
        );
      const texts = Object.fromEntries(['base', 'rl', 'rl-direct'].map((m) => [m, answers(m)]));
      const fresh = new BuiltinRmScorer({ checkpoint: rm });
      const items = arena.judgments.map((j: { promptId: string; a: string; b: string }) => [
        texts[j.a].get(j.promptId),
        texts[j.b].get(j.promptId),
      ]);
      const scores = await fresh.score(items.flat().map((t: string) => ({ prompt: '', response: t, answer: t })));
      fresh.dispose();
      arena.judgments.forEach((j: { label: string }, k: number) =>
        expect(j.label).toBe(
          labelFromScores(scores[2 * k].score, scores[2 * k + 1].score, { tieMargin: 0.02, strongMargin: 0.25, levels: 3 }),
        ),
      );
      // the broken base answer (no <answer> block) was judged on its whole response
      expect(texts.base.get('h2')).toBe(lines.base[2].response);

      scored.mockClear();
      const again = await runEvalDefault({ runs: join(root, 'runs'), rm, out, bootstrap: 100, quiet: true });
      expect(scored).not.toHaveBeenCalled();
      expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))).toEqual(results);
      expect(JSON.parse(JSON.stringify(again.summary.leaderboard))).toEqual(results.leaderboard); // an unbounded end: null in JSON

      // a run trained against this very reward model (its config.json's scorers.quality) is said to be: its Elo is
      // its own training reward, not an independent judgment
      const quality = (results.judge as string).replace(/^scorer-pairwise:/, '').replace(/\/3\/tie<[\d.]+$/, '');
      const cfgPath = join(root, 'runs', 'grpo-tiny', 'config.json');
      writeFileSync(cfgPath, JSON.stringify({ name: 'grpo-tiny', template: 'think', scorers: { quality } }));
      try {
        const own = await runEvalDefault({ runs: join(root, 'runs'), rm, out, bootstrap: 100, quiet: true });
        expect(own.summary.notes[0]).toMatch(/^the judge is the reward model grpo-tiny trained against \(its quality reward\)/);
        expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('the judge is the reward model grpo-tiny trained against');
      } finally {
        writeFileSync(cfgPath, JSON.stringify({ name: 'grpo-tiny', template: 'think' }));
      }
    } finally {
      log.mockRestore();
      err.mockRestore();
      scored.mockRestore();
    }
  }, 60000);

  it('refuses to run without the default run, and without the reward model, saying what to run', async () => {
    const empty = join(root, 'empty-runs');
    mkdirSync(empty, { recursive: true });
    await expect(runEvalDefault({ runs: empty, rm, out: join(root, 'o2'), quiet: true })).rejects.toThrow(
      /grpo-tiny[/\\]heldout-base\.jsonl does not exist.*run `npx nx run trainer:train` first/,
    );
    await expect(runEvalDefault({ runs: join(root, 'runs'), out: join(root, 'o3'), quiet: true })).rejects.toThrow(
      /rm-tiny[/\\]model does not exist.*`npx nx run trainer:train`.*--rm DIR/,
    );
    // an --rm that is no reward model is named before anything is written (no half-updated output)
    await expect(
      runEvalDefault({ runs: join(root, 'runs'), rm: join(root, 'runs', 'grpo-tiny'), out: join(root, 'o4'), quiet: true }),
    ).rejects.toThrow(/^eval-default: --rm/);
    expect(existsSync(join(root, 'o4'))).toBe(false);
  });

  it('never writes into a directory holding something else: a training run, or another report', async () => {
    const run = join(root, 'a-run');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'metrics.jsonl'), '{}\n');
    writeFileSync(join(run, 'report.html'), '<p>training report</p>');
    await expect(runEvalDefault({ runs: join(root, 'runs'), rm, out: run, quiet: true })).rejects.toThrow(
      /--out .*a-run holds a training run \(metrics\.jsonl or checkpoints\/\), not an lwz-arena output/,
    );
    rmSync(join(run, 'metrics.jsonl'));
    await expect(runEvalDefault({ runs: join(root, 'runs'), rm, out: run, quiet: true })).rejects.toThrow(
      /holds a report, not an lwz-arena output/,
    );
    expect(readFileSync(join(run, 'report.html'), 'utf8')).toBe('<p>training report</p>');
    writeFileSync(join(run, 'results.json'), '{"command": "train"}');
    await expect(runEvalDefault({ runs: join(root, 'runs'), rm, out: run, quiet: true })).rejects.toThrow(
      /holds a results\.json, not an lwz-arena output/,
    );
    // a model checkpoint (its weights beside): reports there would make export-recipe and init refuse it later
    const ck = join(root, 'a-checkpoint');
    mkdirSync(ck, { recursive: true });
    writeFileSync(join(ck, 'model.safetensors'), '');
    await expect(runEvalDefault({ runs: join(root, 'runs'), rm, out: ck, quiet: true })).rejects.toThrow(
      /a-checkpoint holds a model checkpoint \(model\.safetensors or tokenizer\.json\), not an lwz-arena output/,
    );
    // a file where a parent directory should be
    await expect(runEvalDefault({ runs: join(root, 'runs'), rm, out: join(run, 'report.html', 'sub'), quiet: true })).rejects.toThrow(
      /report\.html is a file, so the directory cannot be made/,
    );
  });
});

describe('lwz-arena arena --judge-rm', () => {
  it('judges with the reward model, caches the verdicts, and refuses a second judge', async () => {
    const f = writeFixture({ prompts: 3 });
    const out = join(f.dir, 'rm-arena');
    const scored = jest.spyOn(BuiltinRmScorer.prototype, 'score');
    try {
      const first = await runArena({ models: f.models, out, judgeRm: rm, levels: '3', quiet: true });
      expect(first.result.judge).toMatch(/^scorer-pairwise:builtin-rm:rm@/);
      expect(first.result.judgments).toHaveLength(3 * 3 * 2);
      expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).judgeModel).toBeUndefined();
      expect(scored).toHaveBeenCalledTimes(1);
      scored.mockClear();
      const second = await runArena({ models: f.models, out, judgeRm: rm, levels: '3', quiet: true });
      expect(scored).not.toHaveBeenCalled();
      expect(second.result.players).toEqual(first.result.players);
    } finally {
      scored.mockRestore();
    }
    const both = { models: f.models, out, judgeRm: rm, quiet: true };
    await expect(runArena({ ...both, judgeUrl: 'http://127.0.0.1:9/v1', judgeModel: 'm' })).rejects.toThrow(
      /--judge-rm and --judge-url\/--judge-model are two different judges/,
    );
    await expect(runArena({ ...both, judgeOnnxRm: join(f.dir, 'x.onnx') })).rejects.toThrow(/give one reward-model judge/);
    await expect(runArena({ ...both, judgeKeyEnv: 'K', judgeSet: ['maxRetries=1'] })).rejects.toThrow(
      '--judge-key-env, --judge-set set a chat judge; --judge-rm scores with a reward model, which takes none of them',
    );
    await expect(runArena({ models: f.models, out, judgeRm: join(f.dir, 'nope'), quiet: true })).rejects.toThrow(
      /^--judge-rm: .*nope does not exist/,
    );
  }, 60000);

  it("refuses the chat judge's client flags given beside it; their defaults alone are no use of them", async () => {
    const f = writeFixture({ prompts: 2 });
    const arena = (out: string, extra: string[]) =>
      runCommand(registerArena, ['arena', '--models', ...f.models, '--out', join(f.dir, out), '--judge-rm', rm, '--quiet', ...extra]);
    await expect(arena('given', ['--judge-attempts', '2', '--judge-timeout-ms', '1000'])).rejects.toThrow(
      '--judge-timeout-ms, --judge-attempts set a chat judge; --judge-rm scores with a reward model, which takes none of them',
    );
    await expect(
      runArena({ models: f.models, out: join(f.dir, 'given'), judgeRm: rm, judgeConcurrency: '4', quiet: true }),
    ).rejects.toThrow('--judge-concurrency sets a chat judge; --judge-rm scores with a reward model, which takes none of them');
    expect(existsSync(join(f.dir, 'given'))).toBe(false);
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await arena('defaults', ['--judge-rm-tie-margin', '0.05']); // an RM judge takes its margin; the chat flags' defaults are no use
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    expect(JSON.parse(readFileSync(join(f.dir, 'defaults', 'results.json'), 'utf8')).judge).toMatch(/^scorer-pairwise:builtin-rm:rm@/);
  }, 60000);
});
