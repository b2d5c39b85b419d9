// config.json parsing and writing, checked against hand-written Hugging Face configs and published sizes.
import { parameterCount, parseHfConfig, toHfConfig } from './config';
import { MODEL_PRESETS, modelPreset } from './presets';

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
