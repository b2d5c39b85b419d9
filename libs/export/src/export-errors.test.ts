// Bad input fails with a UserError that names the problem and the fix, before any byte is written: the
// output path does not exist afterwards and its directory holds no temporary file.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '@lwz/core';
import { toHfConfig } from '@lwz/model';
import { exportCheckpoint, type ExportOptions } from './export-checkpoint';
import { byteLevelTokenizerJson, randomWeights, tinyConfig, writeTestCheckpoint } from './testing/fixtures';

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

function expectCleanFailure(opts: Omit<ExportOptions, 'out'>, message: RegExp): void {
  const outDir = join(root, `out-${readdirSync(root).length}`);
  const out = join(outDir, 'model.bin');
  let err: unknown;
  try {
    exportCheckpoint({ ...opts, out });
  } catch (e) {
    err = e;
  }
  expect(isUserError(err)).toBe(true);
  expect((err as Error).message).toMatch(message);
  expect(existsSync(out)).toBe(false);
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
    expectCleanFailure({ checkpoint: checkpoint('nohead'), format: 'onnx', variant: 'score' }, /score\.weight/);
    expectCleanFailure({ checkpoint: join(root, 'nope'), format: 'onnx' }, /not a directory/);
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
  });
});
