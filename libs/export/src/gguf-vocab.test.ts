// The tokenizer part of the GGUF file beyond the fixture's plain vocabulary: llama.cpp token types for added
// tokens (special = CONTROL 3, other = USER_DEFINED 4), merges given as ["a", "b"] pairs (newer tokenizer.json
// files) written as llama.cpp's "a b" strings, and where the special ids come from (config.json first, then
// tokenizer_config.json; padding falls back to EOS).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportCheckpoint } from './export-checkpoint';
import { readGguf } from './gguf-reader';
import { byteLevelTokenizerJson, randomWeights, tinyConfig, writeTestCheckpoint } from './testing/fixtures';
import { vocabFromTokenizerJson } from './tokenizer-vocab';

type TokJson = { added_tokens: Record<string, unknown>[]; model: { merges: unknown[] } };

describe('GGUF vocabulary', () => {
  it('types added tokens by their special flag and writes pair merges as "a b"', () => {
    const base = byteLevelTokenizerJson() as unknown as TokJson;
    const eos = base.added_tokens[0];
    const json = {
      ...base,
      added_tokens: [eos, { ...eos, id: Number(eos.id) + 1, content: '<tool>', special: false }],
      model: { ...base.model, merges: [['t', 'h'], 'th e'] },
    };
    const v = vocabFromTokenizerJson(json, 320);
    expect(v.tokenTypes.slice(Number(eos.id), Number(eos.id) + 2)).toEqual([3, 4]);
    expect(v.merges).toEqual(['t h', 'th e']);
  });

  it('takes BOS from config.json before tokenizer_config.json, and pads with EOS when no pad token is named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-gguf-vocab-'));
    try {
      const c = tinyConfig({ bosTokenId: 5 }); // eos 264 = <|endoftext|>
      const ck = join(dir, 'ck');
      writeTestCheckpoint(ck, c, randomWeights(c, 3), byteLevelTokenizerJson());
      writeFileSync(join(ck, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<|endoftext|>' }));
      const out = join(dir, 'm.gguf');
      exportCheckpoint({ checkpoint: ck, format: 'gguf', out });
      const m = readGguf(out).metadata;
      expect(m.get('tokenizer.ggml.bos_token_id')).toBe(5);
      expect(m.get('tokenizer.ggml.eos_token_id')).toBe(264);
      expect(m.get('tokenizer.ggml.padding_token_id')).toBe(264);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
