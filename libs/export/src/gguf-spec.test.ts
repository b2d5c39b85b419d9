// The GGUF writer byte for byte against a file laid out by hand from ggml's docs/gguf.md (no reader, no
// writer code): header, one key of each kind we write (int32 array, bool, float32, UTF-8 string), tensor
// infos with ggml type ids, the default alignment of 32 and zero padding; then the llama.cpp metadata keys and
// tensor types buildGguf writes for a checkpoint.
import { buildGguf } from './gguf-export';
import { parseGguf } from './gguf-reader';
import { gguf, GgmlType, GgufType } from './gguf-writer';
import { byteLevelTokenizerJson, ggufBytes, must, randomWeights, tinyConfig } from './testing/fixtures';
import { vocabFromTokenizerJson } from './tokenizer-vocab';

/** little-endian bytes of an unsigned integer of `n` bytes */
const le = (v: number, n: number): number[] => Array.from({ length: n }, (_, i) => Math.floor(v / 2 ** (8 * i)) % 256);

describe('GGUF layout by hand', () => {
  it('writes header, typed key/values, tensor infos and 32-byte aligned data exactly as the spec lays them out', () => {
    const meta = new Map([
      ['k', gguf.i32s([-2])],
      ['b', gguf.bool(true)],
      ['f', gguf.f32(1.5)],
      ['s', gguf.str('é')],
    ]);
    const tensors = [
      { name: 't', dims: [2, 1], type: GgmlType.F16, data: Uint8Array.from([0x00, 0x3c, 0x00, 0xc0]) },
      { name: 'u', dims: [1], type: GgmlType.F32, data: Uint8Array.from([0, 0, 0x80, 0x3f]) },
    ];
    const key = (c: string, type: number) => [...le(1, 8), c.charCodeAt(0), ...le(type, 4)];
    const kvK = [...key('k', 9), ...le(5, 4), ...le(1, 8), 0xfe, 0xff, 0xff, 0xff]; // ARRAY of INT32: [-2]
    const kvB = [...key('b', 7), 1]; // BOOL true
    const kvF = [...key('f', 6), 0x00, 0x00, 0xc0, 0x3f]; // FLOAT32 1.5
    const kvS = [...key('s', 8), ...le(2, 8), 0xc3, 0xa9]; // STRING: byte length, then UTF-8 "é"
    const infoT = [...le(1, 8), 0x74, ...le(2, 4), ...le(2, 8), ...le(1, 8), ...le(1, 4), ...le(0, 8)]; // 2 dims, F16, offset 0
    const infoU = [...le(1, 8), 0x75, ...le(1, 4), ...le(1, 8), ...le(0, 4), ...le(32, 8)]; // 1 dim, F32, offset 32
    // "GGUF", version 3, tensor_count 2, metadata_kv_count 4
    const header = [0x47, 0x47, 0x55, 0x46, ...le(3, 4), ...le(2, 8), ...le(4, 8), ...kvK, ...kvB, ...kvF, ...kvS, ...infoT, ...infoU];
    const padded = [...header, ...new Array<number>((32 - (header.length % 32)) % 32).fill(0)];
    const want = [...padded, 0x00, 0x3c, 0x00, 0xc0, ...new Array<number>(28).fill(0), 0, 0, 0x80, 0x3f, ...new Array<number>(28).fill(0)];
    expect(Array.from(ggufBytes(meta, tensors))).toEqual(want);
  });

  it('refuses an alignment that is not a multiple of 8 (the spec requires one)', () => {
    expect(() => ggufBytes(new Map([['general.alignment', gguf.u32(4)]]), [])).toThrow(/multiple of 8, got 4/);
  });
});

describe('buildGguf metadata for llama.cpp', () => {
  const c = tinyConfig();
  const vocab = vocabFromTokenizerJson(byteLevelTokenizerJson(), c.vocabSize);
  const read = (opts: Parameters<typeof buildGguf>[3]) => {
    const { metadata, tensors } = buildGguf(c, randomWeights(c, 5), vocab, opts);
    return parseGguf(ggufBytes(metadata, tensors));
  };

  it('writes the model hyper-parameters, file type and special tokens under llama.cpp key names', () => {
    const f = read({ dtype: 'f16', name: 'tiny', special: { bos: 7, eos: 264, pad: 265 }, addBos: 5 });
    const m = f.metadata;
    expect(m.get('general.name')).toBe('tiny');
    expect(m.get('general.file_type')).toBe(1); // LLAMA_FTYPE_MOSTLY_F16
    expect(m.get('qwen2.context_length')).toBe(256);
    expect(m.get('qwen2.embedding_length')).toBe(64);
    expect(m.get('qwen2.feed_forward_length')).toBe(96);
    expect(m.get('qwen2.attention.head_count')).toBe(c.numHeads);
    expect(m.get('qwen2.rope.freq_base')).toBe(Math.fround(c.ropeTheta));
    expect(m.get('qwen2.attention.layer_norm_rms_epsilon')).toBe(Math.fround(c.rmsNormEps));
    expect(m.get('tokenizer.ggml.model')).toBe('gpt2');
    // the BOS the post-processor adds wins over a special-token bos
    expect(m.get('tokenizer.ggml.bos_token_id')).toBe(5);
    expect(m.get('tokenizer.ggml.add_bos_token')).toBe(true);
    expect(m.get('tokenizer.ggml.eos_token_id')).toBe(264);
    expect(m.get('tokenizer.ggml.padding_token_id')).toBe(265);
    // f16 halves the matrices only; norms and biases stay f32 (as llama.cpp's converter writes them)
    const type = (name: string) => must(f.tensors.get(name), name).type;
    expect([type('token_embd.weight'), type('blk.0.attn_q.weight'), type('blk.1.ffn_down.weight'), type('output.weight')]).toEqual([
      1, 1, 1, 1,
    ]);
    expect([type('blk.0.attn_norm.weight'), type('blk.0.attn_q.bias'), type('output_norm.weight')]).toEqual([0, 0, 0]);
  });

  it('types every key as llama.cpp reads it (its loader refuses a key of another type, e.g. an integer freq_base)', () => {
    const { metadata } = buildGguf(c, randomWeights(c, 5), vocab, { dtype: 'f32', special: { bos: 7, eos: 264, pad: 265 } });
    const typeOf = (key: string) => must(metadata.get(key), key).type;
    const u32Keys = [
      'context_length',
      'embedding_length',
      'feed_forward_length',
      'block_count',
      'attention.head_count',
      'attention.head_count_kv',
    ];
    for (const k of u32Keys) expect([k, typeOf(`qwen2.${k}`)]).toEqual([k, GgufType.UINT32]);
    for (const k of ['general.file_type', 'general.alignment', 'tokenizer.ggml.bos_token_id', 'tokenizer.ggml.eos_token_id']) {
      expect([k, typeOf(k)]).toEqual([k, GgufType.UINT32]);
    }
    // ropeTheta is a whole number (1e4 / 1e6), so a u32 would read back equal: only its type tells them apart
    expect(Number.isInteger(c.ropeTheta)).toBe(true);
    expect(typeOf('qwen2.rope.freq_base')).toBe(GgufType.FLOAT32);
    expect(typeOf('qwen2.attention.layer_norm_rms_epsilon')).toBe(GgufType.FLOAT32);
    expect([typeOf('tokenizer.ggml.add_bos_token'), typeOf('tokenizer.ggml.add_eos_token')]).toEqual([GgufType.BOOL, GgufType.BOOL]);
  });

  it('adds no BOS unless the tokenizer does, and marks an f32 file as all-f32', () => {
    const m = read({ dtype: 'f32', special: { bos: 7 } }).metadata;
    expect(m.get('general.file_type')).toBe(0); // LLAMA_FTYPE_ALL_F32
    expect(m.get('general.name')).toBe('lwz-model');
    expect(m.get('tokenizer.ggml.add_bos_token')).toBe(false);
    expect(m.get('tokenizer.ggml.bos_token_id')).toBe(7);
    expect(m.get('tokenizer.ggml.add_eos_token')).toBe(false);
  });
});
