// lwz-train export on an `init --preset tiny` checkpoint: the GGUF file reads back with llama.cpp's
// architecture keys, tensor names and the padded tokenizer, and llama.cpp tokenizes text exactly as
// @lwz/tokenizer does with a BPE trained by trainBpe; the ONNX file decodes as opset 17 with the documented
// inputs/outputs (logit round trips are in libs/export); the real CLI exits 1 on bad input.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeModel, readGguf } from '@lwz/export';
import { toTokenizerJson, Tokenizer, trainBpe } from '@lwz/tokenizer';
import { run as runInit } from './init';
import { run as runExport } from './export';

/** byte-level BPE tokenizer.json: byte b has id b (GPT-2's byte-to-character table), then "<|endoftext|>" = 256 */
function byteTokenizer(): object {
  const printable = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const vocab: Record<string, number> = {};
  let extra = 0;
  for (let b = 0; b < 256; b++) vocab[String.fromCodePoint(printable(b) ? b : 256 + extra++)] = b;
  const added_tokens = [{ id: 256, content: '<|endoftext|>', special: true }];
  return {
    version: '1.0',
    added_tokens,
    pre_tokenizer: { type: 'ByteLevel' },
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab, merges: [] },
  };
}

let dir: string;
let ck: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-export-cli-'));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(byteTokenizer()));
  ck = join(dir, 'ckpt');
  runInit({ preset: 'tiny', out: ck, seed: 3, dtype: 'f32', tokenizer: join(dir, 'tokenizer.json') });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lwz-train export', () => {
  it('writes a GGUF file llama.cpp can map: qwen2 keys, blk.N tensors, tokenizer padded to the vocab', () => {
    const out = join(dir, 'tiny.gguf');
    const r = runExport({ checkpoint: ck, format: 'gguf', out, dtype: 'f16' });
    expect(r).toMatchObject({ format: 'gguf', dtype: 'f16', architecture: 'qwen2' });
    const cfg = JSON.parse(readFileSync(join(ck, 'config.json'), 'utf8'));
    const f = readGguf(out);
    expect(f.version).toBe(3);
    expect(f.metadata.get('general.architecture')).toBe('qwen2');
    expect(f.metadata.get('qwen2.block_count')).toBe(cfg.num_hidden_layers);
    expect(f.metadata.get('qwen2.embedding_length')).toBe(cfg.hidden_size);
    expect(f.metadata.get('qwen2.rope.freq_base')).toBe(cfg.rope_theta);
    expect((f.metadata.get('tokenizer.ggml.tokens') as string[]).length).toBe(cfg.vocab_size);
    expect(f.metadata.get('tokenizer.ggml.eos_token_id')).toBe(256);
    expect(f.tensors.get('token_embd.weight')?.dims).toEqual([cfg.hidden_size, cfg.vocab_size]);
    expect(f.tensors.has(`blk.${cfg.num_hidden_layers - 1}.ffn_down.weight`)).toBe(true);
    expect(f.tensors.has('output.weight')).toBe(!cfg.tie_word_embeddings);
  });

  it('llama.cpp tokenizes and detokenizes like @lwz/tokenizer with a trained BPE', async () => {
    const corpus = Array.from(
      { length: 40 },
      (_, i) => `Chapter ${i}: the writer's long story goes on; it isn't short, and 1234 words follow.\n\nThen   more text arrives.`,
    );
    const tokDir = join(dir, 'trained-tok');
    const ck2 = join(dir, 'ckpt-trained-tok');
    mkdirSync(ck2);
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(ck, f), join(ck2, f));
    writeFileSync(join(ck2, 'tokenizer.json'), JSON.stringify(toTokenizerJson(trainBpe(corpus, { vocabSize: 600 }))));
    const out = join(tokDir, 'tiny.gguf');
    runExport({ checkpoint: ck2, format: 'gguf', out, dtype: 'f16' });
    const ours = Tokenizer.fromFile(join(ck2, 'tokenizer.json'));
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: out });
    const texts = [
      "Chapter 7: the writer's long story isn't short; 98765 words.",
      '  leading spaces,\ttabs\n\n\nand   runs of   spaces  ',
      'Ünïcödé café 日本語 😀 — “quotes”',
      '<think>plan</think><answer>text</answer><|endoftext|>',
    ];
    for (const text of texts) {
      const ids = ours.encode(text);
      expect(model.tokenize(text, true).map(Number)).toEqual(ids);
      expect(model.detokenize(model.tokenize(text, true), true)).toBe(ours.decode(ids, { skipSpecialTokens: false }));
    }
    await model.dispose();
    await llama.dispose();
  }, 120_000);

  it('writes an opset-17 ONNX model with input_ids/attention_mask/position_ids -> logits', () => {
    const out = join(dir, 'tiny.onnx');
    runExport({ checkpoint: ck, format: 'onnx', out, dtype: 'f32' });
    const m = decodeModel(readFileSync(out)) as {
      opsetImport: { version: number }[];
      graph: { input: { name: string }[]; output: { name: string }[] };
    };
    expect(m.opsetImport[0].version).toBe(17);
    expect(m.graph.input.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    expect(m.graph.output.map((o) => o.name)).toEqual(['logits']);
  });

  it('the CLI reports bad input on stderr, exits 1 and leaves no file', () => {
    const out = join(dir, 'bad.gguf');
    const bin = fileURLToPath(new URL('../../bin/lwz-train.js', import.meta.url));
    let stderr = '';
    let status = 0;
    try {
      execFileSync(process.execPath, [bin, 'export', '--checkpoint', ck, '--format', 'gguf', '--dtype', 'q4', '--out', out], {
        stdio: 'pipe',
      });
    } catch (e) {
      stderr = String((e as { stderr: Buffer }).stderr);
      status = (e as { status: number }).status;
    }
    expect(status).toBe(1);
    expect(stderr).toMatch(/error: unsupported export dtype "q4"; choose one of: f32, f16/);
    expect(existsSync(out)).toBe(false);
  });
});
