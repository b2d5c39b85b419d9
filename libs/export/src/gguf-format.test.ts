// The GGUF writer against the spec, read back by our independent reader: header fields, every metadata
// value type, tensor dims/offsets/alignment and bytes; plus the f16 rounding and the llama q/k permutation
// checked against their definitions.
import { buildGguf, ggufArchitecture } from './gguf-export';
import { ggufTensorValues, f16ToF32, parseGguf } from './gguf-reader';
import { gguf, GgufType, GgmlType, type GgufValue } from './gguf-writer';
import { f32ToF16Bits, permuteRotaryRows, toF32Bytes } from './tensor-convert';
import { byteLevelTokenizerJson, ggufBytes, must, randomWeights, tinyConfig } from './testing/fixtures';
import { TokenType, vocabFromTokenizerJson } from './tokenizer-vocab';

describe('GGUF writer + reader', () => {
  it('round-trips every metadata type and aligned tensors', () => {
    const meta = new Map<string, GgufValue>([
      ['general.alignment', gguf.u32(64)],
      ['u8', { type: GgufType.UINT8, value: 250 }],
      ['i8', { type: GgufType.INT8, value: -5 }],
      ['u16', { type: GgufType.UINT16, value: 60000 }],
      ['i16', { type: GgufType.INT16, value: -30000 }],
      ['i32', gguf.i32(-123456)],
      ['f32', gguf.f32(0.5)],
      ['bool', gguf.bool(true)],
      ['str', gguf.str('héllo')],
      ['u64', { type: GgufType.UINT64, value: 2n ** 40n }],
      ['i64', { type: GgufType.INT64, value: -(2n ** 40n) }],
      ['f64', { type: GgufType.FLOAT64, value: Math.PI }],
      ['arr', gguf.strings(['a', 'bc', ''])],
    ]);
    const a = Float32Array.from({ length: 15 }, (_, i) => i - 7); // 60 bytes: forces padding
    const b = Uint8Array.from([0, 60, 0, 188]); // f16 1.0, -1.0
    const bytes = ggufBytes(meta, [
      { name: 'a', dims: [5, 3], type: GgmlType.F32, data: toF32Bytes(a) },
      { name: 'b', dims: [2], type: GgmlType.F16, data: b },
    ]);
    const dv = new DataView(bytes.buffer);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('GGUF');
    expect(dv.getUint32(4, true)).toBe(3);
    expect(dv.getBigUint64(8, true)).toBe(2n);
    expect(dv.getBigUint64(16, true)).toBe(BigInt(meta.size));
    const f = parseGguf(bytes);
    expect(f.alignment).toBe(64);
    expect(f.dataStart % 64).toBe(0);
    expect(f.metadata.get('u8')).toBe(250);
    expect(f.metadata.get('i8')).toBe(-5);
    expect(f.metadata.get('u16')).toBe(60000);
    expect(f.metadata.get('i16')).toBe(-30000);
    expect(f.metadata.get('i32')).toBe(-123456);
    expect(f.metadata.get('f32')).toBe(0.5);
    expect(f.metadata.get('bool')).toBe(true);
    expect(f.metadata.get('str')).toBe('héllo');
    expect(f.metadata.get('u64')).toBe(2n ** 40n);
    expect(f.metadata.get('i64')).toBe(-(2n ** 40n));
    expect(f.metadata.get('f64')).toBe(Math.PI);
    expect(f.metadata.get('arr')).toEqual(['a', 'bc', '']);
    const ta = must(f.tensors.get('a'), 'a');
    const tb = must(f.tensors.get('b'), 'b');
    expect(ta.dims).toEqual([5, 3]);
    expect(ta.offset).toBe(0);
    expect(tb.offset).toBe(64); // 60 bytes rounded up to the alignment
    expect(Array.from(ggufTensorValues(ta))).toEqual(Array.from(a));
    expect(Array.from(ggufTensorValues(tb))).toEqual([1, -1]);
    expect(bytes.length).toBe(f.dataStart + 64 + 64);
  });

  it('rejects duplicate tensor names and wrong byte counts', () => {
    const t = { name: 'x', dims: [2], type: GgmlType.F32, data: new Uint8Array(8) };
    expect(() => ggufBytes(new Map(), [t, t])).toThrow(/duplicate/);
    expect(() => ggufBytes(new Map(), [{ ...t, dims: [3] }])).toThrow(/bytes/);
  });

  it('maps a qwen2 checkpoint to llama.cpp names with ggml dims and the tokenizer keys', () => {
    const c = tinyConfig();
    const w = randomWeights(c, 4);
    const vocab = vocabFromTokenizerJson(byteLevelTokenizerJson(), c.vocabSize);
    const { metadata, tensors } = buildGguf(c, w, vocab, { dtype: 'f32', special: { eos: 264 } });
    const f = parseGguf(ggufBytes(metadata, tensors));
    expect(f.metadata.get('general.architecture')).toBe('qwen2');
    expect(f.metadata.get('qwen2.attention.head_count_kv')).toBe(2);
    expect(f.metadata.get('tokenizer.ggml.pre')).toBe('qwen2');
    const tokens = f.metadata.get('tokenizer.ggml.tokens') as string[];
    const types = f.metadata.get('tokenizer.ggml.token_type') as number[];
    expect(tokens).toHaveLength(c.vocabSize);
    expect(tokens[264]).toBe('<|endoftext|>');
    expect(types[264]).toBe(TokenType.CONTROL);
    expect(tokens[300]).toBe('[PAD300]');
    expect(types[300]).toBe(TokenType.UNUSED);
    expect(f.metadata.get('tokenizer.ggml.merges')).toContain('t h');
    const q = must(f.tensors.get('blk.1.attn_q.weight'), 'attn_q');
    expect(q.dims).toEqual([c.hiddenSize, c.numHeads * c.headDim]);
    expect(ggufTensorValues(q)).toEqual(w.get('model.layers.1.self_attn.q_proj.weight'));
    expect(f.tensors.has('blk.0.attn_k.bias')).toBe(true);
    expect(f.tensors.get('output.weight')?.dims).toEqual([c.hiddenSize, c.vocabSize]);
    for (const t of f.tensors.values()) expect(t.offset % 32).toBe(0);
  });

  it('writes the chat template, and a qwen2 model whose head_dim is not hidden / heads as arch llama', () => {
    const c = tinyConfig({ headDim: 6 }); // 4 heads x 6 != 16
    const vocab = vocabFromTokenizerJson(byteLevelTokenizerJson(), c.vocabSize);
    const template = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}";
    const { metadata, tensors } = buildGguf(c, randomWeights(c, 4), vocab, { dtype: 'f32', chatTemplate: template });
    const f = parseGguf(ggufBytes(metadata, tensors));
    expect(f.metadata.get('general.architecture')).toBe('llama');
    expect(f.metadata.get('llama.attention.key_length')).toBe(6);
    expect(f.metadata.get('tokenizer.chat_template')).toBe(template);
    expect(ggufArchitecture(tinyConfig())).toBe('qwen2');
  });

  it('reads a vocabulary of 151,665 ids (Qwen2.5-sized: too many to spread into Math.max)', () => {
    const base = byteLevelTokenizerJson() as { model: { vocab: Record<string, number> }; added_tokens: { id: number; content: string }[] };
    const vocab = { ...base.model.vocab };
    for (let id = Object.keys(vocab).length; id < 151643; id++) vocab[`tok${id}`] = id;
    const added = [151643, 151644, 151645].map((id, i) => ({
      ...base.added_tokens[0],
      id,
      content: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'][i],
    }));
    const v = vocabFromTokenizerJson({ ...base, added_tokens: added, model: { ...base.model, vocab } }, 151936);
    expect(v.tokens).toHaveLength(151936);
    expect(v.tokens[151645]).toBe('<|im_end|>');
    expect(v.tokens[151700]).toBe('[PAD151700]');
  });
});

describe('element conversions', () => {
  it('f16 rounding: exact values, round-to-nearest-even, overflow, subnormals', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(1e6)).toBe(0x7c00);
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001);
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and 1+2^-10: ties to even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway, odd below: rounds up
    for (const v of [0.1, -3.14159, 1234.567, 6e-5, -7e-8]) {
      const h = f16ToF32(f32ToF16Bits(v));
      const up = f16ToF32(f32ToF16Bits(v) + 1);
      const down = f16ToF32(f32ToF16Bits(v) - 1);
      expect(Math.abs(h - v)).toBeLessThanOrEqual(Math.min(Math.abs(up - v), Math.abs(down - v)));
    }
  });

  it('q/k permutation: row 2i+j of each head takes rotate-half row j*D/2+i', () => {
    const D = 4;
    const w = Float32Array.from({ length: 2 * D * 3 }, (_, i) => i); // 2 heads, rows of 3
    const p = permuteRotaryRows(w, 2, 3);
    const row = (a: Float32Array, r: number): number[] => Array.from(a.subarray(r * 3, r * 3 + 3));
    const order = [0, 2, 1, 3, 4, 6, 5, 7]; // per head: rows 0, D/2, 1, D/2+1
    order.forEach((src, dst) => expect(row(p, dst)).toEqual(row(w, src)));
  });
});
