// The built-in RM scorer on a tiny random reward model: batched, length-sorted, right-padded scores equal each
// answer scored alone by Qwen2Model.forwardScores (1e-5: padding and batching change nothing) and the float64
// reference forward (1e-4: f32 vs f64); score = sigmoid(raw); answers past maxTokens keep their head; the id
// follows the checkpoint's content (fileFingerprint samples all of a large file); a causal LM and bad options are
// refused with errors naming the field. Also the input rules' edges: the chat window, the end id of an eos list.
import { jest } from '@jest/globals';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor } from '@lwz/kernels';
import { loadModel, type Qwen2Model } from '@lwz/model';
import { float64Weights, referenceScore } from '@lwz/model/testing';
import { createQualityScorer, hasQualityScorer, scoreQuality, type QualityItem } from '@lwz/rewards';
import { Tokenizer } from '@lwz/tokenizer';
import './index';
import { fileFingerprint, lengthBatches, rmScore } from './rm-common';
import { rmChatInput, rmEndId, rmInput, rmInputIds } from './rm-input';
import { BuiltinRmScorer, createBuiltinRmScorer } from './rm-scorer';
import { writeTinyRewardModel } from './testing';

const LONG = 'She wrote a long story about the harbour, then read it aloud while the sea was calm. '.repeat(4);
const ANSWERS = [
  'The sea.',
  'The sky was grey and the harbour was calm.',
  'calm',
  LONG,
  'She read it aloud, then wrote it down again, twice.',
];
const items: QualityItem[] = ANSWERS.map((a, i) =>
  // item 2 has no answer block: its whole response is what the RM reads
  i === 2
    ? { prompt: 'p', response: 'no answer block here, just words', answer: null }
    : { prompt: 'p', response: `<answer>${a}</answer>`, answer: a },
);

let dir: string;
let ck: string;
let model: Qwen2Model;
let tok: Tokenizer;
let eot: number;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-rm-scorer-'));
  ck = writeTinyRewardModel(dir, 'rm', { seed: 3 });
  model = loadModel(ck);
  tok = Tokenizer.fromFile(join(ck, 'tokenizer.json'));
  eot = tok.tokenToId('<|endoftext|>') as number;
});
afterAll(() => {
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** One answer scored alone (B = 1, no padding) by the loaded model. */
function alone(ids: readonly number[]): number {
  const x = tensor(Int32Array.from(ids), [1, ids.length], { device: model.device, dtype: 'i32' });
  return model.forwardScores({ ids: x }).toHost()[0];
}
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('builtin-rm scores', () => {
  it('reads the answer (else the response) + end-of-text, cut to the context with its head kept', () => {
    const s = createBuiltinRmScorer({ checkpoint: ck });
    expect(s.maxTokens).toBe(64);
    expect(s.endId).toBe(eot);
    for (const it of items) {
      const body = tok.encode(it.answer ?? it.response, { addSpecialTokens: false });
      expect(s.inputIds(it)).toEqual([...body.slice(0, 63), eot]);
    }
    expect(tok.encode(LONG, { addSpecialTokens: false }).length).toBeGreaterThan(63); // LONG is cut
  });

  it('marks the answers it read only in part (past its window), and says so once on stderr', async () => {
    const body = tok.encode(LONG, { addSpecialTokens: false });
    // the window holds the text and its end id: a text of exactly maxTokens - 1 tokens is read whole
    expect(rmInput(tok, LONG, eot, body.length + 1).cut).toBe(false);
    expect(rmInput(tok, LONG, eot, body.length)).toEqual({ ids: [...body.slice(0, body.length - 1), eot], cut: true });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const s = createBuiltinRmScorer({ checkpoint: ck });
      for (let round = 0; round < 2; round++) {
        const got = await s.score(items);
        expect(got.map((g) => g.truncated === true)).toEqual(ANSWERS.map((a) => a === LONG));
      }
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
        expect.stringMatching(
          /^note: builtin-rm .*: 1 of 5 answers are longer than its window of 64 tokens and are scored on their first part only/,
        ),
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it('equal each answer scored alone (1e-5) and the float64 reference (1e-4), whatever the batch size', async () => {
    const rows = items.map((it) => rmInputIds(tok, it.answer ?? it.response, eot, 64));
    const single = rows.map(alone);
    const weights = float64Weights(model);
    const ref = rows.map((r) => referenceScore(model.config, weights, r));
    expect(new Set(rows.map((r) => r.length)).size).toBe(rows.length); // every batch mixes lengths
    for (const batchSize of [1, 2, 3, 16]) {
      const got = await scoreQuality(createBuiltinRmScorer({ checkpoint: ck, batchSize }), items);
      const raw = got.map((g) => g.raw as number);
      const d = maxAbsDiff(raw, single);
      console.warn(
        `[builtin-rm batchSize ${batchSize}] max |raw - alone| ${d.toExponential(2)}, max |raw - f64| ${maxAbsDiff(raw, ref).toExponential(2)}`,
      );
      expect(d).toBeLessThan(1e-5);
      expect(raw).toBeAllClose(ref, { atol: 1e-4, rtol: 0 });
      got.forEach((g) => expect(g.score).toBeCloseTo(1 / (1 + Math.exp(-(g.raw as number))), 12));
    }
    expect(Math.max(...single) - Math.min(...single)).toBeGreaterThan(1e-2); // the answers really score differently
  });

  it('maxTokens: answers that agree on their first maxTokens - 1 tokens score the same', async () => {
    const base = 'The sky was grey and the harbour was calm and she wrote';
    const pair: QualityItem[] = [base, `${base} a long story about the sea.`].map((a) => ({ prompt: 'p', response: a, answer: a }));
    expect(tok.encode(base, { addSpecialTokens: false }).length).toBeGreaterThan(10);
    const cut = await createBuiltinRmScorer({ checkpoint: ck, maxTokens: 8 }).score(pair);
    expect(cut[0].raw).toBeCloseTo(cut[1].raw as number, 5);
    expect(cut[0].raw).toBeCloseTo(alone([...tok.encode(base, { addSpecialTokens: false }).slice(0, 7), eot]), 5);
    const full = await createBuiltinRmScorer({ checkpoint: ck }).score(pair);
    expect(Math.abs((full[0].raw as number) - (full[1].raw as number))).toBeGreaterThan(1e-4);
  });

  it('honours an aborted signal and scores an empty batch as nothing', async () => {
    const s = createBuiltinRmScorer({ checkpoint: ck });
    await expect(s.score(items, { signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
    expect(await s.score([])).toEqual([]);
  });
});

describe('builtin-rm: id, registry, refusals', () => {
  it('is registered; its id names the input rule, maxTokens and a fingerprint that follows the content, not the path', () => {
    expect(hasQualityScorer('builtin-rm')).toBe(true);
    const s = createQualityScorer('builtin-rm', { checkpoint: ck, batchSize: 4 });
    expect(s).toBeInstanceOf(BuiltinRmScorer);
    expect(s.id).toMatch(/^builtin-rm:rm@[0-9a-f]{12}#rm-input\/1#max64$/);
    const fp = (id: string): string => id.split('@')[1].split('#')[0];
    cpSync(ck, join(dir, 'copy'), { recursive: true });
    expect(fp(createBuiltinRmScorer({ checkpoint: join(dir, 'copy') }).id)).toBe(fp(s.id));
    const other = writeTinyRewardModel(join(dir, 'o'), 'rm', { seed: 4 });
    expect(fp(createBuiltinRmScorer({ checkpoint: other }).id)).not.toBe(fp(s.id));
    expect(createBuiltinRmScorer({ checkpoint: ck, maxTokens: 32 }).id).toMatch(/#max32$/);
  });

  it('refuses a causal LM (and a classifier config without score.weight), saying to train a reward model', () => {
    // a policy's run directory: named as such, not pointed at its checkpoint (which would only fail next)
    const run = join(dir, 'grpo-run');
    writeTinyRewardModel(join(run, 'checkpoints'), 'step-4', { causal: true });
    writeFileSync(join(run, 'config.json'), '{"name": "grpo"}');
    expect(() => createBuiltinRmScorer({ checkpoint: run })).toThrow(
      /quality\.options\.checkpoint: .*grpo-run is a training run whose checkpoints are language models, not a reward model/,
    );
    // a reward model's run directory still points at its model
    const rmRun = join(dir, 'rm-run');
    writeTinyRewardModel(rmRun, 'model');
    writeFileSync(join(rmRun, 'config.json'), '{"name": "rm"}');
    expect(() => createBuiltinRmScorer({ checkpoint: rmRun })).toThrow(
      /rm-run is a run directory, not a checkpoint .*point at .*rm-run[/\\]model/,
    );
    const lm = writeTinyRewardModel(join(dir, 'lm'), 'lm', { causal: true });
    expect(() => createBuiltinRmScorer({ checkpoint: lm })).toThrow(
      /quality\.options\.checkpoint: .*causal language model.*`npx lwz-train train-rm`/,
    );
    const cfg = JSON.parse(readFileSync(join(lm, 'config.json'), 'utf8'));
    writeFileSync(join(lm, 'config.json'), JSON.stringify({ ...cfg, architectures: ['Qwen2ForSequenceClassification'], num_labels: 1 }));
    expect(() => createBuiltinRmScorer({ checkpoint: lm })).toThrow(/quality\.options\.checkpoint: .*no "score\.weight".*train-rm/);
  });

  it.each([
    [{}, /quality\.options\.checkpoint: must be a path/],
    [{ checkpoint: 3 }, /quality\.options\.checkpoint: must be a path/],
    [{ checkpoint: 'CK', batchSize: 0 }, /quality\.options\.batchSize: must be a positive integer/],
    [{ checkpoint: 'CK', batchSize: 1.5 }, /quality\.options\.batchSize: must be a positive integer/],
    [{ checkpoint: 'CK', maxTokens: 1 }, /quality\.options\.maxTokens: must be an integer >= 2/],
    [{ checkpoint: 'CK', maxTokens: 65 }, /quality\.options\.maxTokens: 65 exceeds the model's context \(max_position_embeddings 64\)/],
    [{ checkpoint: 'CK', batch: 2 }, /quality\.options: unknown field\(s\) batch \(valid: checkpoint, batchSize, maxTokens\)/],
    [{ checkpoint: 'MISSING' }, /quality\.options\.checkpoint: .*does not exist; train a reward model/],
    [{ checkpoint: 'CK/config.json' }, /quality\.options\.checkpoint: .*is not a directory/],
  ])('options %j are refused: %s', (raw, message) => {
    const options = JSON.parse(JSON.stringify(raw).replace('MISSING', join(dir, 'missing')).replace('CK', ck));
    expect(() => createQualityScorer('builtin-rm', options)).toThrow(message);
  });

  it('refuses a checkpoint without tokenizer.json', () => {
    const bare = join(dir, 'bare');
    cpSync(ck, bare, { recursive: true });
    rmSync(join(bare, 'tokenizer.json'));
    expect(() => createBuiltinRmScorer({ checkpoint: bare })).toThrow(/quality\.options\.checkpoint: .*no tokenizer\.json; copy/);
  });
});

describe('rm-input', () => {
  it('rmChatInput: a chat of exactly maxTokens tokens is read whole; one token less cuts it, keeping its head', () => {
    // the fixture tokenizer ships our ChatML template: the text it renders, spelt out
    const prompt = 'Write about the harbour.';
    const answer = 'The sea was calm and the sky was grey.';
    const text = `<|im_start|>user\n${prompt}<|im_end|>\n<|im_start|>assistant\n${answer}<|im_end|>\n`;
    const chat = tok.encode(text, { addSpecialTokens: false });
    const n = chat.length;
    expect(n).toBeGreaterThan(10);
    expect(rmChatInput(tok, prompt, answer, n)).toEqual({ ids: chat, cut: false });
    expect(rmChatInput(tok, prompt, answer, n + 1)).toEqual({ ids: chat, cut: false });
    expect(rmChatInput(tok, prompt, answer, n - 1)).toEqual({ ids: chat.slice(0, n - 1), cut: true });
  });

  it("rmEndId takes the config's eos (the first of a list), else the tokenizer's <|endoftext|>", () => {
    expect(rmEndId(tok, [7, 9, 11])).toBe(7);
    expect(rmEndId(tok, [9])).toBe(9);
    expect(rmEndId(tok, 5)).toBe(5);
    expect(rmEndId(tok)).toBe(eot);
    expect(rmEndId(tok, [])).toBe(eot);
  });
});

describe('rm-common', () => {
  it('lengthBatches covers every row once, longest first, at most batchSize each', () => {
    const lengths = [3, 9, 1, 9, 4, 7, 2];
    const b = lengthBatches(lengths, 3);
    expect(b.map((x) => x.length)).toEqual([3, 3, 1]);
    expect(b.flat().sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(b.flat().map((i) => lengths[i])).toEqual([9, 9, 7, 4, 3, 2, 1]);
  });

  it('rmScore maps logits to (0, 1) by the sigmoid, saturating without NaN', () => {
    expect(rmScore(0)).toEqual({ score: 0.5, raw: 0 });
    expect(rmScore(Math.log(3)).score).toBeCloseTo(0.75, 12);
    expect(rmScore(-1000).score).toBe(0);
    expect(rmScore(1000).score).toBe(1);
  });

  it('fileFingerprint samples the whole of a file over 4 MiB: a change in its middle or at its end changes it', () => {
    const fpDir = mkdtempSync(join(tmpdir(), 'lwz-rm-fingerprint-'));
    try {
      // 5 MiB each, all named model.bin (name and size are in the fingerprint): only the contents differ
      const size = 5 << 20;
      const base = Buffer.alloc(size, Buffer.from(Array.from({ length: 251 }, (_, i) => i))); // 0..250 repeated
      const write = (name: string, edit: (b: Buffer) => void): string => {
        const b = Buffer.from(base);
        edit(b);
        mkdirSync(join(fpDir, name));
        writeFileSync(join(fpDir, name, 'model.bin'), b);
        return join(fpDir, name, 'model.bin');
      };
      const same = write('same', () => undefined);
      // 512 KiB around the middle: wider than the gap between two of the 16 samples, so at least one is in it
      const middle = write('middle', (b) => b.fill(0xab, (size >> 1) - (256 << 10), (size >> 1) + (256 << 10)));
      const last = write('last', (b) => (b[size - 1] ^= 0xff));
      const head = fileFingerprint([write('base', () => undefined)]);
      expect(head).toMatch(/^[0-9a-f]{12}$/);
      expect(fileFingerprint([same])).toBe(head); // the path is not part of it
      expect(fileFingerprint([middle])).not.toBe(head);
      expect(fileFingerprint([last])).not.toBe(head);
      expect(fileFingerprint([middle])).not.toBe(fileFingerprint([last]));
    } finally {
      rmSync(fpDir, { recursive: true, force: true });
    }
  });
});
