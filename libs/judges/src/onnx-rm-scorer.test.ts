// The ONNX RM scorer against the built-in one on the same tiny random reward model, exported with
// `--variant score`: raw scores equal the in-process forward within 1e-3 (issue #11's criterion; f32 on both
// sides, measured ~1e-6) for answers of different lengths right-padded in one batch and in several, with
// maxTokens truncation; the context and end id come from a config.json beside the model when there is one;
// bad options, a missing tokenizer and a logits export are refused with errors naming the field. A Hugging Face
// classifier export (`--variant seq-cls`: no position_ids, logits (B, 1)) scores the same, and `input: chat`
// reads the prompt + answer in the tokenizer's chat template, checked against the in-process forward.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportCheckpoint } from '@lwz/export';
import { tensor } from '@lwz/kernels';
import { loadModel } from '@lwz/model';
import { createQualityScorer, scoreQuality, type QualityItem } from '@lwz/rewards';
import './index';
import { OnnxRmScorer, createOnnxRmScorer, type OnnxRmOptions } from './onnx-rm-scorer';
import { rightPad } from './rm-common';
import { createBuiltinRmScorer } from './rm-scorer';
import { writeTinyRewardModel } from './testing';

const LONG = 'She wrote a long story about the harbour, then read it aloud while the sea was calm. '.repeat(4);
const ANSWERS = [
  'The sea.',
  'The sky was grey and the harbour was calm.',
  LONG,
  'a',
  'She read it aloud, then wrote it down again, twice.',
];
const items: QualityItem[] = ANSWERS.map((a) => ({ prompt: 'p', response: `<answer>${a}</answer>`, answer: a }));

let dir: string;
let ck: string;
let exp: string; // export dir: model.onnx + tokenizer files, no config.json
const opened: OnnxRmScorer[] = [];
function onnx(options: OnnxRmOptions): OnnxRmScorer {
  const s = createOnnxRmScorer(options as Record<string, unknown>);
  opened.push(s);
  return s;
}

function exportTo(out: string, variant: string, withConfig = false, checkpoint = ck): string {
  mkdirSync(out, { recursive: true });
  exportCheckpoint({ checkpoint, format: 'onnx', out: join(out, 'model.onnx'), variant });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', ...(withConfig ? ['config.json'] : [])])
    copyFileSync(join(checkpoint, f), join(out, f));
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-onnx-rm-'));
  ck = writeTinyRewardModel(dir, 'rm', { seed: 5 });
  exp = exportTo(join(dir, 'export'), 'score');
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const maxAbsDiff = (a: readonly number[], b: readonly number[]): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const raws = (scores: { raw?: number }[]): number[] => scores.map((s) => s.raw as number);

describe('onnx-rm scores', () => {
  it.each([8, 2])(
    "equal the built-in RM's raw forward within 1e-3, answers of different lengths batched %i at a time",
    async (batchSize) => {
      const builtin = raws(await createBuiltinRmScorer({ checkpoint: ck }).score(items));
      const scorer = onnx({ model: exp, maxTokens: 64, batchSize });
      expect(new Set(items.map((it) => scorer.inputIds(it).length)).size).toBe(items.length);
      const got = await scoreQuality(scorer, items);
      const d = maxAbsDiff(raws(got), builtin);
      console.warn(`[onnx-rm batchSize ${batchSize}] max |onnx raw - builtin raw| ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-3);
      got.forEach((g) => expect(g.score).toBeCloseTo(1 / (1 + Math.exp(-(g.raw as number))), 12));
      expect(Math.max(...builtin) - Math.min(...builtin)).toBeGreaterThan(1e-2);
    },
  );

  it('cuts answers at maxTokens like the built-in RM (head kept, end-of-text last)', async () => {
    const builtin = raws(await createBuiltinRmScorer({ checkpoint: ck, maxTokens: 8 }).score(items));
    const scorer = onnx({ model: join(exp, 'model.onnx'), tokenizer: join(exp, 'tokenizer.json'), maxTokens: 8 });
    expect(items.map((it) => scorer.inputIds(it).length)).toEqual([4, 8, 8, 2, 8]);
    expect(maxAbsDiff(raws(await scorer.score(items)), builtin)).toBeLessThan(1e-3);
  });

  it('takes the context and end-of-text id from a config.json beside the model', async () => {
    const withCfg = exportTo(join(dir, 'export-cfg'), 'score', true);
    const scorer = onnx({ model: withCfg });
    expect(scorer.maxTokens).toBe(64);
    expect(scorer.endId).toBe(createBuiltinRmScorer({ checkpoint: ck }).endId);
    expect(scorer.id).toMatch(/^onnx-rm:model\.onnx@[0-9a-f]{12}#rm-input\/1#max64$/);
    expect(createQualityScorer('onnx-rm', { model: exp, maxTokens: 64 }).id).not.toBe(scorer.id); // another file set
    expect(() => onnx({ model: withCfg, maxTokens: 65 })).toThrow(/quality\.options\.maxTokens: 65 exceeds the model's context .*64/);
  });
});

// a ChatML template written out here (our tokenizer fixture has none): the expected text is spelt out below
const CHATML =
  "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

describe('a Hugging Face classifier export (seq-cls)', () => {
  let hf: string;
  beforeAll(() => {
    hf = exportTo(join(dir, 'export-hf'), 'seq-cls', true);
    const cfgPath = join(hf, 'tokenizer_config.json');
    writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), chat_template: CHATML }));
    const modelCfg = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'));
    writeFileSync(join(hf, 'config.json'), JSON.stringify({ ...modelCfg, pad_token_id: 3 }));
  });

  it('reads a graph without position_ids whose output is logits (B, 1): the answers score as with our score export (1e-3)', async () => {
    const builtin = raws(await createBuiltinRmScorer({ checkpoint: ck }).score(items));
    const scorer = onnx({ model: hf, batchSize: 3 });
    expect(scorer.padId).toBe(scorer.endId);
    expect(maxAbsDiff(raws(await scorer.score(items)), builtin)).toBeLessThan(1e-3);
  });

  it('input "chat": the prompt and answer in the chat template, padded with pad_token_id, equal the in-process forward (1e-3)', async () => {
    const scorer = onnx({ model: hf, input: 'chat', batchSize: 8 });
    expect(scorer.padId).toBe(3);
    expect(scorer.id).toMatch(/#rm-chat\/1#max64$/);
    const tok = (scorer as unknown as { tokenizer: { encode(t: string, o: { addSpecialTokens: boolean }): number[] } }).tokenizer;
    const chat = items.slice(0, 4).map((it, i) => ({ ...it, prompt: `Write ${i + 1} lines about the sea.` }));
    const text = `<|im_start|>user\n${chat[1].prompt}<|im_end|>\n<|im_start|>assistant\n${chat[1].answer}<|im_end|>\n`;
    expect(scorer.inputIds(chat[1])).toEqual(tok.encode(text, { addSpecialTokens: false }));
    const rows = chat.map((it) => scorer.inputIds(it));
    const { ids, B, T, lengths } = rightPad(rows, 3);
    const model = loadModel(ck);
    const ref = model.forwardScores({ ids: tensor(Int32Array.from(ids), [B, T], { dtype: 'i32' }), lengths });
    const want = Array.from(ref.toHost());
    model.dispose();
    const got = raws(await scorer.score(chat));
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-3);
    expect(maxAbsDiff(got, raws(await onnx({ model: hf, batchSize: 8 }).score(chat)))).toBeGreaterThan(1e-3); // the prompt counts
  });

  it('input "chat" needs a chat template beside the tokenizer', () => {
    const bare = join(dir, 'tok-no-chat');
    mkdirSync(bare);
    copyFileSync(join(exp, 'tokenizer.json'), join(bare, 'tokenizer.json'));
    const { chat_template: _dropped, ...rest } = JSON.parse(readFileSync(join(exp, 'tokenizer_config.json'), 'utf8'));
    expect(_dropped).toEqual(expect.any(String)); // our tokenizers ship ChatML
    writeFileSync(join(bare, 'tokenizer_config.json'), JSON.stringify(rest));
    expect(() => onnx({ model: exp, tokenizer: bare, maxTokens: 64, input: 'chat' })).toThrow(
      /quality\.options\.input: "chat" needs a chat_template in .*tok-no-chat\/tokenizer_config\.json/,
    );
    expect(onnx({ model: exp, tokenizer: bare, maxTokens: 64 }).input).toBe('answer');
  });
});

describe('onnx-rm refusals', () => {
  it.each([
    [{}, /quality\.options\.model: must be a path/],
    [{ model: 'EXP', batchSize: 0 }, /quality\.options\.batchSize: must be a positive integer/],
    [
      { model: 'EXP', maxTokens: 64, device: 'cpu' },
      /quality\.options: unknown field\(s\) device \(valid: model, tokenizer, batchSize, maxTokens, input\)/,
    ],
    [{ model: 'MISSING' }, /quality\.options\.model: .*does not exist; export a reward model with `npx lwz-train export .*--variant score/],
    [{ model: 'EXP' }, /quality\.options\.maxTokens: no config\.json with max_position_embeddings beside .*; set maxTokens/],
    [{ model: 'EXP', tokenizer: 'MISSING', maxTokens: 8 }, /quality\.options\.tokenizer: .*does not exist/],
  ])('options %j are refused: %s', (raw, message) => {
    const options = JSON.parse(JSON.stringify(raw).replace('MISSING', join(dir, 'missing')).replace('EXP', exp));
    expect(() => createQualityScorer('onnx-rm', options)).toThrow(message);
  });

  it('refuses a directory without an .onnx file and a model without a tokenizer beside it', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(() => onnx({ model: empty, maxTokens: 8 })).toThrow(/quality\.options\.model: .* holds no \.onnx file; export a reward model/);
    writeFileSync(join(empty, 'a.onnx'), '');
    writeFileSync(join(empty, 'b.onnx'), '');
    expect(() => onnx({ model: empty, maxTokens: 8 })).toThrow(/holds 2 \.onnx files \(a\.onnx, b\.onnx\); name one/);
    expect(() => onnx({ model: join(empty, 'a.onnx'), maxTokens: 8 })).toThrow(
      /quality\.options\.tokenizer: .*tokenizer\.json does not exist/,
    );
  });

  it("a language model's logits export is refused at the first score, naming the score variant", async () => {
    // (export refuses a logits graph of a reward model itself; a user can still point the scorer at an LM's export)
    const lm = writeTinyRewardModel(dir, 'lm', { seed: 5, causal: true });
    const logits = exportTo(join(dir, 'export-logits'), 'logits', false, lm);
    await expect(onnx({ model: logits, maxTokens: 16 }).score(items.slice(0, 2))).rejects.toThrow(
      /quality\.options\.model: .*has no "scores" \(batch,\) or "logits" \(batch, 1\) output \(it has logits \(2, \d+, \d+\)\).*--variant score/,
    );
  });
});
