// Checkpoint files beyond the weights (generation_config.json, the tokenizer copied in, what a directory may hold), the
// tensors a loader tolerates or refuses, and what initModel / addValueHead put in a new model.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { addValueHead, initModel, loadModel, saveModel } from './checkpoint';
import { enableLora } from './lora';
import { writeSafetensors, type StTensor } from './safetensors';
import { openWeights } from './weights-io';
import { randomModel, tinyConfig } from './testing/fixtures';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-ckf-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** Rewrite a saved checkpoint's model.safetensors with `extra` tensors after its own. */
function addTensors(ckpt: string, extra: StTensor[]): void {
  const w = openWeights(ckpt);
  const own = w.names().map((name) => {
    const e = w.entry(name);
    const data = new Float32Array(e ? e.shape.reduce((a, b) => a * b, 1) : 0);
    w.readInto(name, data);
    return { name, shape: e?.shape ?? [], data };
  });
  writeSafetensors(join(ckpt, 'model.safetensors'), [...own, ...extra]);
}

describe('checkpoint files', () => {
  it('writes generation_config.json as transformers derives it from the model config', () => {
    const model = initModel(tinyConfig({ bosTokenId: 3, eosTokenId: 4 }), new Rng(1), 'ref');
    saveModel(model, join(dir, 'c'));
    expect(json(join(dir, 'c', 'generation_config.json'))).toStrictEqual({ _from_model_config: true, bos_token_id: 3, eos_token_id: 4 });
  });

  it('copies the tokenizer: a directory gives its three files, a tokenizer.json of any name is saved as tokenizer.json', () => {
    const tok = join(dir, 'tok');
    mkdirSync(tok);
    writeFileSync(join(tok, 'tokenizer.json'), '{"t":1}');
    writeFileSync(join(tok, 'tokenizer_config.json'), '{"c":1}');
    writeFileSync(join(tok, 'chat_template.jinja'), '{{ x }}');
    writeFileSync(join(tok, 'other.json'), '{"t":2}');
    const model = initModel(tinyConfig(), new Rng(1), 'ref');
    const out = join(dir, 'c');
    saveModel(model, out, { tokenizer: tok });
    expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).toBe('{"t":1}');
    expect(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).toBe('{"c":1}');
    expect(readFileSync(join(out, 'chat_template.jinja'), 'utf8')).toBe('{{ x }}');
    saveModel(model, out, { tokenizer: join(tok, 'other.json') });
    expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).toBe('{"t":2}');
    expect(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).toBe('{"c":1}');
    // saved again without a tokenizer: the old tokenizer files are the checkpoint's own, so the directory is replaced
    saveModel(model, out);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors']);
  });

  it("ignores RoPE's inv_freq buffers; refuses an lm_head in a sequence classifier and lists five unknown tensors then '...'", () => {
    const model = randomModel(tinyConfig(), 3);
    const out = join(dir, 'c');
    saveModel(model, out);
    addTensors(out, [{ name: 'model.layers.0.self_attn.rotary_emb.inv_freq', shape: [2], data: Float32Array.of(1, 0.01) }]);
    expect(loadModel(out, 'ref').store.has('model.layers.0.self_attn.rotary_emb.inv_freq')).toBe(false);
    const rm = join(dir, 'rm');
    saveModel(addValueHead(randomModel(tinyConfig({ tieWordEmbeddings: false }), 3), new Rng(1)), rm); // untied: no lm_head at all
    addTensors(rm, [{ name: 'lm_head.weight', shape: [29, 16], data: new Float32Array(29 * 16) }]);
    expect(() => loadModel(rm, 'ref')).toThrow(/tensors not in a qwen2 model with this config.json: lm_head.weight$/);
    const extra = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name, shape: [1], data: Float32Array.of(0) }));
    saveModel(model, out);
    addTensors(out, extra);
    expect(() => loadModel(out, 'ref')).toThrow(/this config.json: a, b, c, d, e, \.\.\.$/);
  });

  it('a checkpoint directory holding a checkpoints/ or model/ folder is still the checkpoint; a run picks step-N folders only', () => {
    const model = randomModel(tinyConfig(), 3);
    const out = join(dir, 'c');
    saveModel(model, out);
    mkdirSync(join(out, 'checkpoints', 'step-9'), { recursive: true });
    mkdirSync(join(out, 'model'));
    writeFileSync(join(out, 'model', 'config.json'), '{}');
    expect(loadModel(out, 'ref').config.vocabSize).toBe(29);
    const run = join(dir, 'run');
    saveModel(model, join(run, 'checkpoints', 'step-10'));
    mkdirSync(join(run, 'checkpoints', 'step-99.partial'));
    mkdirSync(join(run, 'checkpoints', 'old-step-50'));
    expect(() => loadModel(run, 'ref')).toThrow(`point at ${join(run, 'checkpoints', 'step-10')}`);
  });
});

describe('initModel and addValueHead', () => {
  it('initModel: norm weights 1, biases 0, each matrix its own N(0, initializer_range) draw; the rng is not advanced', () => {
    const cfg = tinyConfig({ initializerRange: 0.5 });
    const rng = new Rng(7);
    const before = rng.state();
    const model = initModel(cfg, rng, 'ref');
    expect(rng.state()).toEqual(before);
    const values = (name: string) => Array.from(model.store.get(name).value.f32 as Float32Array);
    for (const name of ['model.norm.weight', 'model.layers.1.input_layernorm.weight', 'model.layers.0.post_attention_layernorm.weight'])
      expect(values(name).every((v) => v === 1)).toBe(true);
    expect(values('model.layers.0.self_attn.k_proj.bias').every((v) => v === 0)).toBe(true);
    const embed = values('model.embed_tokens.weight');
    const std = Math.sqrt(embed.reduce((a, v) => a + v * v, 0) / embed.length);
    expect(std).toBeGreaterThan(0.4);
    expect(std).toBeLessThan(0.6);
    const q = values('model.layers.0.self_attn.q_proj.weight');
    const k = values('model.layers.0.self_attn.k_proj.weight');
    expect(q.slice(0, 8)).not.toEqual(k.slice(0, 8));
    expect(embed.slice(0, 8)).not.toEqual(q.slice(0, 8));
  });

  it('addValueHead: std 0 gives a zero head, the rng is not advanced, the untied lm_head is freed; LoRA models are refused', () => {
    const lm = randomModel(tinyConfig({ tieWordEmbeddings: false }), 3);
    const head = lm.store.get('lm_head.weight').value;
    const rng = new Rng(2);
    const before = rng.state();
    const rm = addValueHead(lm, rng, 0);
    expect(rng.state()).toEqual(before);
    expect(Array.from(rm.store.get('score.weight').value.f32 as Float32Array).every((v) => v === 0)).toBe(true);
    expect(head.isDisposed).toBe(true);
    const lora = randomModel(tinyConfig(), 3);
    enableLora(lora, { rank: 2, alpha: 4 }, new Rng(1));
    expect(() => addValueHead(lora, new Rng(1))).toThrow(/has LoRA adapters; merge them first/);
  });
});
