// Bad input fails with a UserError that names the problem and the fix, before any byte is written: the
// output path does not exist afterwards and its directory holds no temporary file.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '@lwz/core';
import { toHfConfig } from '@lwz/model';
import { exportCheckpoint, type ExportOptions } from './export-checkpoint';
import { parseGguf } from './gguf-reader';
import { byteLevelTokenizerJson, must, randomWeights, tinyConfig, writeTestCheckpoint } from './testing/fixtures';

let root: string;
beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'lwz-export-err-'))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** leave the weights as generated */
function keep(): void {
  return undefined;
}

function checkpoint(
  name: string,
  edit: (w: Map<string, Float32Array>) => void = keep,
  tokenizer: unknown = byteLevelTokenizerJson(),
): string {
  const c = tinyConfig();
  const w = randomWeights(c, 9);
  edit(w);
  const dir = join(root, name);
  writeTestCheckpoint(dir, c, w, tokenizer);
  return dir;
}

function expectCleanFailure(opts: Omit<ExportOptions, 'out'> & { out?: string }, message: RegExp | string): void {
  const outDir = join(root, `out-${readdirSync(root).length}`);
  const out = opts.out ?? join(outDir, 'model.bin');
  const before = existsSync(out) ? readFileSync(out) : null;
  let err: unknown;
  try {
    exportCheckpoint({ ...opts, out });
  } catch (e) {
    err = e;
  }
  expect(isUserError(err)).toBe(true);
  expect((err as Error).message).toMatch(message);
  if (before)
    expect(readFileSync(out).equals(before)).toBe(true); // an existing file is left as it was
  else expect(existsSync(out)).toBe(false);
  expect(existsSync(outDir) ? readdirSync(outDir) : []).toEqual([]);
}

describe('export errors', () => {
  it('missing tensors are listed by name', () => {
    const ck = checkpoint('missing', (w) => w.delete('model.layers.1.mlp.up_proj.weight'));
    expectCleanFailure({ checkpoint: ck, format: 'gguf' }, /missing tensors model\.layers\.1\.mlp\.up_proj\.weight/);
    expectCleanFailure({ checkpoint: ck, format: 'onnx' }, /missing tensors model\.layers\.1\.mlp\.up_proj\.weight/);
  });

  it('a misshaped tensor names the tensor and both shapes', () => {
    const ck = checkpoint('shape', (w) => w.set('model.norm.weight', new Float32Array(3)));
    expectCleanFailure({ checkpoint: ck, format: 'onnx' }, /model\.norm\.weight.*\[3\].*\[64\]/);
  });

  it('unsupported dtype, format and variant list the valid choices', () => {
    const ck = checkpoint('ok');
    expectCleanFailure({ checkpoint: ck, format: 'gguf', dtype: 'bf16' }, /dtype "bf16".*f32, f16/);
    expectCleanFailure({ checkpoint: ck, format: 'tflite' }, /format "tflite".*gguf, onnx/);
    expectCleanFailure({ checkpoint: ck, format: 'onnx', variant: 'encoder' }, /variant "encoder".*logits, logits-kv, score/);
  });

  it('an unknown architecture is refused by config.json field', () => {
    const ck = checkpoint('arch');
    writeFileSync(join(ck, 'config.json'), JSON.stringify({ ...toHfConfig(tinyConfig()), model_type: 'gpt_neox' }));
    expectCleanFailure({ checkpoint: ck, format: 'gguf' }, /model_type.*"qwen2" or "llama".*gpt_neox/);
  });

  it('GGUF needs tokenizer.json; a non-BPE tokenizer is refused', () => {
    const ck = checkpoint('notok', keep, null);
    expectCleanFailure({ checkpoint: ck, format: 'gguf' }, /no tokenizer\.json/);
    const uni = checkpoint('unigram', keep, { model: { type: 'Unigram', vocab: [] } });
    expectCleanFailure({ checkpoint: uni, format: 'gguf' }, /"Unigram".*BPE/);
  });

  it('the score variant needs a value head; a missing directory is named', () => {
    const lm = checkpoint('nohead');
    for (const variant of ['score', 'seq-cls'])
      expectCleanFailure(
        { checkpoint: lm, format: 'onnx', variant },
        `${lm} is a causal language model with no value head ("score.weight"): --variant ${variant} exports a reward model's score; ` +
          'point --checkpoint at a reward model (`npx lwz-train train-rm` makes one), or export this model with --variant logits',
      );
    expectCleanFailure({ checkpoint: join(root, 'nope'), format: 'onnx' }, /not a directory/);
  });

  it('f16 refuses a weight it would write as infinity, naming the tensor and the value', () => {
    const ck = checkpoint('big', (w) => (must(w.get('model.embed_tokens.weight'), 'embed')[7] = -1e5));
    for (const format of ['gguf', 'onnx'])
      expectCleanFailure(
        { checkpoint: ck, format, dtype: 'f16' },
        /tensor "model\.embed_tokens\.weight" holds -100000 \(at index 7\), beyond f16's largest value 65504.*--dtype f32/,
      );
    // 65504 itself, and anything that rounds to it, is fine
    const edge = checkpoint('edge', (w) => (must(w.get('model.embed_tokens.weight'), 'embed')[7] = 65519));
    expect(exportCheckpoint({ checkpoint: edge, format: 'gguf', dtype: 'f16', out: join(root, 'edge.gguf') }).bytes).toBeGreaterThan(0);
  });

  it('notes that llama.cpp does not apply the NFC a tokenizer names (Qwen), and says nothing otherwise', () => {
    const nfc = checkpoint('nfc', keep, { ...byteLevelTokenizerJson(), normalizer: { type: 'NFC' } });
    const r = exportCheckpoint({ checkpoint: nfc, format: 'gguf', out: join(root, 'nfc.gguf') });
    expect(r.notes).toEqual([
      expect.stringMatching(/tokenizer\.json normalizes text to NFC and llama\.cpp does not: give llama\.cpp NFC-normalized text/),
    ]);
    expect(exportCheckpoint({ checkpoint: checkpoint('plain'), format: 'gguf', out: join(root, 'plain.gguf') }).notes).toEqual([]);
  });

  it("a template appending a token after the text exports as add_eos_token when it is the model's eos, and is refused otherwise", () => {
    const withEos = (id: number) => ({
      ...byteLevelTokenizerJson(),
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: 'E', type_id: 0 } }],
        special_tokens: { E: { id: 'E', ids: [id], tokens: ['E'] } },
      },
    });
    const out = join(root, 'eos.gguf');
    exportCheckpoint({ checkpoint: checkpoint('eos', keep, withEos(264)), format: 'gguf', out }); // 264: tinyConfig's eos
    const m = parseGguf(readFileSync(out)).metadata;
    expect([m.get('tokenizer.ggml.add_eos_token'), m.get('tokenizer.ggml.eos_token_id'), m.get('tokenizer.ggml.add_bos_token')]).toEqual([
      true,
      264,
      false,
    ]);
    expectCleanFailure(
      { checkpoint: checkpoint('eos-other', keep, withEos(7)), format: 'gguf' },
      /tokenizer\.json: its post_processor appends token 7 after every sequence, but the model's eos_token_id is 264; .*export to ONNX instead/,
    );
  });

  it("--out may not replace the checkpoint's own files", () => {
    const ck = checkpoint('self');
    expectCleanFailure(
      { checkpoint: ck, format: 'gguf', out: join(ck, 'model.safetensors') } as ExportOptions,
      /would replace a file of the checkpoint/,
    );
    expect(exportCheckpoint({ checkpoint: ck, format: 'gguf', out: join(ck, 'model.gguf') }).format).toBe('gguf'); // a new file beside it is fine
  });

  it('GGUF refuses a reward model (it would drop the value head) and names the ONNX variants that keep it', () => {
    const c = tinyConfig({ numLabels: 1 });
    const w = randomWeights(c, 3);
    const dir = join(root, 'rm');
    writeTestCheckpoint(dir, c, w, byteLevelTokenizerJson());
    expectCleanFailure(
      { checkpoint: dir, format: 'gguf' },
      /is a reward model \(a value head, num_labels 1\); GGUF carries only the language model .*--format onnx --variant score/,
    );
    // ONNX: its graph is the score unless told otherwise, and a logits graph (no LM head) is refused
    expectCleanFailure(
      { checkpoint: dir, format: 'onnx', variant: 'logits' },
      /is a reward model .*--variant logits would drop its value head/,
    );
    expect(exportCheckpoint({ checkpoint: dir, format: 'onnx', out: join(root, 'rm.onnx') }).architecture).toBe('onnx-score');
  });
});
