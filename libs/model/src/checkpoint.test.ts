// Checkpoint files: save -> load gives bit-identical log-probs (single file and sharded), BF16 checkpoints
// load within bf16 rounding, and mismatched, incomplete or damaged (inf/NaN) checkpoints fail with a message naming
// the tensor; a run directory given as a checkpoint is named, with the checkpoint inside it.
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, UserError } from '@lwz/core';
import { checkVocabCovers, loadModel, saveModel } from './checkpoint';
import { endOfSequenceIds } from './config';
import { INDEX_FILE } from './weights-io';
import { writeSafetensors } from './safetensors';
import { overwriteWeightBytes } from './testing/damage';
import { padBatch, randomIds, randomModel, VARIANTS } from './testing/fixtures';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-ckpt-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const cfg = VARIANTS[1][1]; // untied: lm_head.weight is written too
const seqs = [randomIds(new Rng(1), 8, cfg.vocabSize), randomIds(new Rng(2), 6, cfg.vocabSize)];

function logprobs(model: ReturnType<typeof randomModel>): number[] {
  return Array.from(model.forwardLogprobs(padBatch(seqs)).logprobs.f32);
}

describe('saveModel / loadModel', () => {
  it('writes the Hugging Face layout and reloads to bit-identical log-probs', () => {
    const model = randomModel(cfg, 4);
    const out = join(dir, 'ckpt');
    saveModel(model, out);
    for (const f of ['config.json', 'model.safetensors', 'generation_config.json']) expect(existsSync(join(out, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'qwen2', tie_word_embeddings: false });
    const back = loadModel(out, 'ref');
    expect(logprobs(back)).toEqual(logprobs(model));
  });

  it("reads generation_config.json's eos ids (Qwen2.5-Instruct lists two), stops on both and saves them back", () => {
    const model = randomModel(cfg, 4);
    const out = join(dir, 'ckpt');
    saveModel(model, out);
    writeFileSync(join(out, 'generation_config.json'), JSON.stringify({ eos_token_id: [5, 3], bos_token_id: 1 }));
    const back = loadModel(out, 'ref');
    expect(back.config.generationEosTokenId).toEqual([5, 3]);
    expect(endOfSequenceIds({ ...back.config, eosTokenId: 5 })).toEqual([5, 3]);
    const again = join(dir, 'again');
    saveModel(back, again);
    expect(JSON.parse(readFileSync(join(again, 'generation_config.json'), 'utf8')).eos_token_id).toEqual([5, 3]);
    writeFileSync(join(out, 'generation_config.json'), '{"eos_token_id": [5,');
    expect(() => loadModel(out, 'ref')).toThrow(/ckpt\/generation_config.json: cannot read the generation config/);
    writeFileSync(join(out, 'generation_config.json'), JSON.stringify({ eos_token_id: ['</s>'] }));
    expect(() => loadModel(out, 'ref')).toThrow(/generation_config.json: field "eos_token_id" must be an integer or a non-empty list/);
  });

  it('loads sharded checkpoints', () => {
    const model = randomModel(VARIANTS[0][1], 4);
    const out = join(dir, 'sharded');
    saveModel(model, out, { maxShardBytes: 4096 });
    expect(existsSync(join(out, INDEX_FILE))).toBe(true);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(false);
    const back = loadModel(out, 'ref');
    expect(Array.from(back.forwardLogprobs(padBatch(seqs)).logprobs.f32)).toEqual(
      Array.from(model.forwardLogprobs(padBatch(seqs)).logprobs.f32),
    );
    // saved again single-file over the shards: the old layout's files are its own, so the directory is replaced
    saveModel(model, out);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors']);
    // a file of the user's in it: refused, nothing touched
    writeFileSync(join(out, 'README.md'), 'mine');
    expect(() => saveModel(model, out, { maxShardBytes: 4096 })).toThrow(/holds README\.md, which this output would delete/);
    expect(readdirSync(out).sort()).toEqual(['README.md', 'config.json', 'generation_config.json', 'model.safetensors']);
  });

  it('loads BF16 checkpoints (weights within half a bf16 ulp, log-probs close)', () => {
    const model = randomModel(cfg, 4);
    const out = join(dir, 'bf16');
    saveModel(model, out, { dtype: 'BF16' });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    const back = loadModel(out, 'ref');
    for (const p of model.store.params) {
      const a = p.value.f32;
      const b = back.store.get(p.name).value.f32;
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(Math.abs(a[i]) * 2 ** -8);
    }
    expect(logprobs(back)).toBeAllClose(logprobs(model), { atol: 0.02, rtol: 0.03 });
  });

  it('names missing, misshapen and unexpected tensors', () => {
    const model = randomModel(cfg, 4);
    const out = join(dir, 'bad');
    saveModel(model, out);
    const cfgPath = join(out, 'config.json');
    const good = JSON.parse(readFileSync(cfgPath, 'utf8'));
    writeFileSync(cfgPath, JSON.stringify({ ...good, num_hidden_layers: 3 }));
    expect(() => loadModel(out, 'ref')).toThrow(/lacks tensor "model.layers.2.input_layernorm.weight"/);
    writeFileSync(cfgPath, JSON.stringify({ ...good, num_hidden_layers: 1 }));
    expect(() => loadModel(out, 'ref')).toThrow(/tensors not in a qwen2 model.*model.layers.1/);
    writeFileSync(cfgPath, JSON.stringify({ ...good, intermediate_size: 25 }));
    expect(() => loadModel(out, 'ref')).toThrow(
      /"model.layers.0.mlp.gate_proj.weight" has shape \[24, 16\], config.json implies \[25, 16\]/,
    );
    writeFileSync(cfgPath, JSON.stringify(good));
    writeSafetensors(join(out, 'model.safetensors'), [
      { name: 'model.embed_tokens.weight', shape: [29, 16], data: new Float32Array(29 * 16) },
    ]);
    expect(() => loadModel(out, 'ref')).toThrow(/lacks tensor/);
  });

  it('refuses a tensor holding inf or NaN, naming the file, the tensor and how many values', () => {
    const out = join(dir, 'damaged');
    saveModel(randomModel(cfg, 4), out);
    overwriteWeightBytes(out, 0xff); // every f32 a NaN
    const load = () => loadModel(out, 'ref');
    expect(load).toThrow(UserError);
    expect(load).toThrow(
      `${join(out, 'model.safetensors')}: tensor "model.embed_tokens.weight" holds 464 non-finite values (the first, NaN, at index 0 of 464): ` +
        'the file is damaged. Restore or re-download the checkpoint, or use another (a run directory resumes from its newest: delete that step)',
    );
    // one infinity deep in a later tensor
    saveModel(randomModel(cfg, 4), out);
    const model = loadModel(out, 'ref');
    const norm = model.store.get('model.norm.weight').value.f32 as Float32Array;
    norm[5] = -Infinity;
    saveModel(model, out);
    expect(load).toThrow(`tensor "model.norm.weight" holds 1 non-finite value (the first, -Infinity, at index 5 of 16)`);
  });

  it('checkVocabCovers: a tokenizer with more ids than vocab_size is named with both sizes; as many or fewer ids pass', () => {
    const ckpt = join(dir, 'vocab');
    saveModel(randomModel(cfg, 5), ckpt);
    const v = cfg.vocabSize;
    expect(() => checkVocabCovers(ckpt, v, 'tok/tokenizer.json')).not.toThrow();
    expect(() => checkVocabCovers(ckpt, v - 3, 'tok/tokenizer.json')).not.toThrow(); // a padded embedding
    expect(() => checkVocabCovers(ckpt, v + 1, 'tok/tokenizer.json')).toThrow(
      `${ckpt}: vocab_size ${v} in its config.json is smaller than the ${v + 1} token ids of tok/tokenizer.json`,
    );
  });

  it("names a run directory (the run's own config.json) and the checkpoint inside it", () => {
    const model = randomModel(cfg, 4);
    const run = join(dir, 'run');
    for (const step of [2, 10]) saveModel(model, join(run, 'checkpoints', `step-${step}`));
    writeFileSync(join(run, 'config.json'), JSON.stringify({ name: 'a run', steps: 10 }));
    expect(() => loadModel(run, 'ref')).toThrow(
      `${run} is a run directory, not a checkpoint (its config.json is the run's); point at ${join(run, 'checkpoints', 'step-10')}`,
    );
    saveModel(model, join(run, 'model')); // train-rm's reward model
    expect(() => loadModel(run, 'ref')).toThrow(`point at ${join(run, 'model')}`);
    expect(logprobs(loadModel(join(run, 'model'), 'ref'))).toEqual(logprobs(model));
  });
});
