// config.json parsing and writing, checked against hand-written Hugging Face configs and published sizes.
import { parameterCount, parseGenerationEos, parseHfConfig, toHfConfig } from './config';
import { parameterSpecs } from './params';
import { MODEL_PRESETS, modelPreset } from './presets';
import { tinyConfig } from './testing';

const qwen = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  vocab_size: 151936,
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  max_position_embeddings: 32768,
  hidden_act: 'silu',
  use_sliding_window: false,
  rope_scaling: null,
  bos_token_id: 151643,
  eos_token_id: 151643,
};

describe('parseHfConfig', () => {
  it('reads a Qwen2.5-0.5B config.json (head_dim defaults to hidden / heads, biases on)', () => {
    const c = parseHfConfig(qwen);
    expect(c).toMatchObject({
      modelType: 'qwen2',
      hiddenSize: 896,
      headDim: 64,
      numKvHeads: 2,
      attentionBias: true,
      tieWordEmbeddings: true,
    });
    // the published size of Qwen2.5-0.5B: 494,032,768 parameters (embedding counted once)
    expect(parameterCount(c)).toBe(494032768);
    expect(modelPreset('qwen2.5-0.5b')).toEqual(c);
  });

  it('accepts llama-style configs without q/k/v biases', () => {
    const c = parseHfConfig({ ...qwen, model_type: 'llama', attention_bias: false, head_dim: 32, tie_word_embeddings: false });
    expect(c).toMatchObject({ modelType: 'llama', attentionBias: false, headDim: 32, tieWordEmbeddings: false });
  });

  it.each([
    ['hidden_size', 'missing'],
    ['num_key_value_heads', 'missing'],
    ['rope_theta', 'missing'],
    ['vocab_size', 'missing'],
  ])('names a missing field (%s)', (field) => {
    const raw: Record<string, unknown> = { ...qwen };
    delete raw[field];
    expect(() => parseHfConfig(raw, 'x/config.json')).toThrow(new RegExp(`x/config.json: field "${field}" is missing`));
  });

  it('names unsupported or invalid fields', () => {
    expect(() => parseHfConfig({ ...qwen, model_type: 'gpt2' })).toThrow(/model_type/);
    expect(() => parseHfConfig({ ...qwen, rope_scaling: { type: 'yarn', factor: 4 } })).toThrow(/rope_scaling/);
    expect(() => parseHfConfig({ ...qwen, hidden_act: 'gelu' })).toThrow(/hidden_act/);
    expect(() => parseHfConfig({ ...qwen, num_key_value_heads: 3 })).toThrow(/num_key_value_heads/);
    expect(() => parseHfConfig({ ...qwen, hidden_size: 12.5 })).toThrow(/hidden_size.*positive integer/);
    expect(() => parseHfConfig({ ...qwen, use_sliding_window: true })).toThrow(/use_sliding_window/);
  });

  it('reads the RoPE base from transformers 5 rope_parameters and refuses scaled RoPE in either field', () => {
    const { rope_theta: _theta, rope_scaling: _scaling, ...v5 } = qwen;
    expect(parseHfConfig({ ...v5, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }).ropeTheta).toBe(5e5);
    expect(parseHfConfig({ ...qwen, rope_scaling: { rope_type: 'default' } }).ropeTheta).toBe(qwen.rope_theta);
    const llama3 = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    expect(() => parseHfConfig({ ...v5, rope_parameters: { ...llama3, rope_theta: 5e5 } }, 'x/config.json')).toThrow(
      /x\/config.json: field "rope_parameters" has rope_type "llama3", which is not supported.*cannot be run here/,
    );
    expect(() => parseHfConfig({ ...qwen, rope_scaling: llama3 })).toThrow(/"rope_scaling" has rope_type "llama3"/);
    expect(() => parseHfConfig({ ...qwen, rope_scaling: { type: 'dynamic', factor: 2 } })).toThrow(/rope_type "dynamic"/);
    expect(() => parseHfConfig({ ...v5, rope_parameters: { rope_type: 'default' } })).toThrow(/"rope_theta" is missing/);
  });

  it("refuses llama's attention_bias (transformers puts a bias on o_proj too)", () => {
    expect(() => parseHfConfig({ ...qwen, model_type: 'llama', attention_bias: true })).toThrow(/attention_bias.*o_proj/);
  });

  it('round-trips through toHfConfig for every preset', () => {
    for (const [name, c] of Object.entries(MODEL_PRESETS)) {
      expect([name, parseHfConfig(JSON.parse(JSON.stringify(toHfConfig(c))))]).toEqual([name, c]);
    }
  });

  it('keeps the tiny preset within 3-6 M parameters and the bench preset near 5.3 M', () => {
    const tiny = parameterCount(modelPreset('tiny'));
    expect(tiny).toBeGreaterThan(3e6);
    expect(tiny).toBeLessThan(6e6);
    expect(Math.abs(parameterCount(modelPreset('bench-5m')) - 5.3e6)).toBeLessThan(0.1e6);
    expect(() => modelPreset('huge')).toThrow(/tiny/);
  });
});

describe('parseHfConfig field checks (each error names its field)', () => {
  const bad = (over: Record<string, unknown>) => () => parseHfConfig({ ...qwen, ...over }, 'x/config.json');

  it('refuses zero, infinite and non-boolean values', () => {
    expect(bad({ hidden_size: 0 })).toThrow('x/config.json: field "hidden_size" must be a positive integer, got 0');
    expect(bad({ rms_norm_eps: 0 })).toThrow('field "rms_norm_eps" must be a positive number, got 0');
    expect(bad({ rms_norm_eps: Infinity })).toThrow('field "rms_norm_eps" must be a positive number, got null');
    expect(bad({ tie_word_embeddings: 'true' })).toThrow('field "tie_word_embeddings" must be true or false, got "true"');
    expect(bad({ eos_token_id: 'x' })).toThrow('field "eos_token_id" must be an integer or a list of integers, got "x"');
    expect(bad({ bos_token_id: 1.5 })).toThrow('field "bos_token_id" must be an integer, got 1.5');
    expect(bad({ rope_parameters: 'default' })).toThrow('field "rope_parameters" must be an object, got "default"');
  });

  it('refuses features it does not implement: MLP biases, qwen2 without q/k/v biases, odd head_dim', () => {
    expect(bad({ mlp_bias: true })).toThrow(/field "mlp_bias" is not supported/);
    expect(bad({ attention_bias: false })).toThrow(/field "attention_bias" must not be false for model_type qwen2/);
    expect(bad({ head_dim: 63 })).toThrow('field "head_dim" must be even for rotary embeddings, got 63');
    expect(bad({ hidden_size: 100 })).toThrow(
      'field "head_dim" is missing and hidden_size 100 is not a multiple of num_attention_heads 14',
    );
  });

  it("takes transformers' Qwen2Config/LlamaConfig defaults for absent fields", () => {
    const { hidden_act: _act, tie_word_embeddings: _tie, ...bare } = qwen;
    // Qwen2Config: hidden_act "silu", tie_word_embeddings False, initializer_range 0.02; LlamaConfig: attention_bias False
    expect(parseHfConfig(bare)).toMatchObject({ tieWordEmbeddings: false, initializerRange: 0.02 });
    expect(parseHfConfig({ ...bare, model_type: 'llama' })).toMatchObject({ attentionBias: false, tieWordEmbeddings: false });
  });

  it('reads a classifier head size from id2label; refuses more than one label', () => {
    const cls = { ...qwen, architectures: ['Qwen2ForSequenceClassification'] };
    expect(parseHfConfig({ ...cls, id2label: { 0: 'LABEL_0' } }).numLabels).toBe(1);
    expect(() => parseHfConfig({ ...cls, id2label: { 0: 'bad', 1: 'good' }, num_labels: 1 })).toThrow(
      /field "num_labels" must be 1 for a sequence classifier .*got 2/,
    );
  });

  it("writes a classifier's labels as transformers does: id2label {'0': 'LABEL_0'}, label2id {LABEL_0: 0}", () => {
    const hf = toHfConfig({ ...modelPreset('tiny'), numLabels: 1 });
    expect(hf).toMatchObject({ architectures: ['Qwen2ForSequenceClassification'], num_labels: 1, id2label: { '0': 'LABEL_0' } });
    expect(hf.label2id).toStrictEqual({ LABEL_0: 0 });
  });

  it('generation_config.json: an empty eos_token_id list is refused (generation would never stop)', () => {
    expect(() => parseGenerationEos({ eos_token_id: [] }, 'g.json')).toThrow(
      /g.json: field "eos_token_id" must be an integer or a non-empty list/,
    );
    expect(parseGenerationEos({ eos_token_id: [1, 2] })).toEqual([1, 2]);
    expect(parseGenerationEos({})).toBeUndefined();
  });
});

describe('parameterSpecs', () => {
  it('lists every weight once: 4,448 values for a tied tiny shape, + V*C for an untied lm_head (counted by hand)', () => {
    const c = tinyConfig(); // V 29, C 16, F 24, 2 layers, 4 heads / 2 kv heads of 4, biases, tied
    // per layer: q 16x16, k and v 8x16, o 16x16 = 800 with biases 16+8+8; gate/up/down 3x24x16 = 1152; 2 norms 32 -> 1984
    // embedding 29x16 = 464, 2 layers 3968, final norm 16: 4448
    const total = (cfg: typeof c) => parameterSpecs(cfg).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
    expect(total(c)).toBe(4448);
    expect(parameterSpecs(c).map((s) => s.name)).not.toContain('lm_head.weight');
    expect(total({ ...c, tieWordEmbeddings: false })).toBe(4448 + 464);
    expect(parameterCount(c)).toBe(4448);
  });

  it('modelPreset hands out a copy: changing it leaves the preset alone', () => {
    const p = modelPreset('tiny');
    p.numLayers = 99;
    expect(modelPreset('tiny').numLayers).toBe(4);
    expect(MODEL_PRESETS.tiny.numLayers).toBe(4);
  });
});
