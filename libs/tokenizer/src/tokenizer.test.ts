// Tokenizer loading and decoding errors on a tiny trained vocab: each unsupported component or bad input gives
// a message that names it; ids outside the vocabulary are refused rather than decoded as garbage; regex
// approximations are reported once at load.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { BYTE_TO_CHAR } from './byte-level';
import { Tokenizer } from './tokenizer';
import { toTokenizerConfig, toTokenizerJson } from './tokenizer-json';
import { trainBpe } from './train-bpe';

const trained = trainBpe(['the cat sat on the mat; the cat ate the rat. '.repeat(20)], { vocabSize: 300 });
const json = toTokenizerJson(trained);
const V = trained.vocab.length + trained.specialTokens.length; // the tiny corpus stops training below 300

describe('Tokenizer', () => {
  const tok = new Tokenizer(json, toTokenizerConfig(trained));

  it('exposes vocab size, special flags and the chat template from its config', () => {
    expect(V).toBeLessThan(300);
    expect(tok.vocabSize).toBe(V);
    expect(tok.isSpecial(tok.tokenToId('<|im_end|>') as number)).toBe(true);
    expect(tok.isSpecial(tok.tokenToId('<think>') as number)).toBe(false);
    expect(tok.config.chatTemplate).toContain('add_generation_prompt');
    expect(tok.config.eosToken).toBe('<|endoftext|>');
  });

  it('splitSpecialTokens encodes special tokens as text (as a tokenizer without them would) and still matches the others', () => {
    const text = 'the cat <|endoftext|> sat <think>on</think> the <|im_start|>mat';
    const eot = tok.tokenToId('<|endoftext|>') as number;
    const start = tok.tokenToId('<|im_start|>') as number;
    const think = tok.tokenToId('<think>') as number;
    expect(tok.encode(text, { addSpecialTokens: false })).toEqual(expect.arrayContaining([eot, start, think]));
    const plain = tok.encode(text, { addSpecialTokens: false, splitSpecialTokens: true });
    expect(plain).not.toContain(eot);
    expect(plain).not.toContain(start);
    expect(plain).toContain(think);
    // the independent reference: the same tokenizer.json with its special added tokens removed
    const spec = JSON.parse(JSON.stringify(json)) as { added_tokens: { special: boolean }[] };
    spec.added_tokens = spec.added_tokens.filter((t) => !t.special);
    expect(plain).toEqual(new Tokenizer(spec, toTokenizerConfig(trained)).encode(text, { addSpecialTokens: false }));
    expect(tok.decode(plain)).toBe(text);
  });

  it('decodes a character cut short at the end as U+FFFD, as a one-shot TextDecoder does', () => {
    const byte = (b: number) => tok.tokenToId(BYTE_TO_CHAR[b]) as number;
    const shi = Array.from(new TextEncoder().encode('世'), byte); // 3 bytes, one id each
    expect(tok.decode([byte(0x61), ...shi])).toBe('a世');
    expect(tok.decode([byte(0x61), ...shi.slice(0, 2)])).toBe('a\ufffd');
    expect(tok.decode(shi.slice(0, 1))).toBe('\ufffd');
  });

  it('refuses ids outside the vocabulary', () => {
    expect(() => tok.decode([1, V])).toThrow(new RegExp(`token id ${V} is outside .*0\\.\\.${V - 1}`));
    expect(() => tok.tokens([-1])).toThrow(/token id -1/);
  });

  it('reports regex approximations once at load: exposed on the tokenizer, emitted through onWarning or console.warn', () => {
    expect(tok.warnings).toEqual([]);
    const pre = json.pre_tokenizer as { pretokenizers: Record<string, unknown>[] };
    const possessive = {
      ...json,
      pre_tokenizer: {
        ...pre,
        pretokenizers: [{ type: 'Split', pattern: { Regex: '\\p{N}{1,3}+|\\p{L}+' }, behavior: 'Isolated' }, ...pre.pretokenizers.slice(1)],
      },
    };
    const seen: string[] = [];
    const t = new Tokenizer(possessive, {}, { onWarning: (m) => seen.push(m) });
    expect(t.warnings).toEqual([
      expect.stringMatching(/^tokenizer.json pre_tokenizer Split: split regex .*possessive quantifier \{1,3\}\+ at offset 5/),
    ]);
    expect(seen).toEqual(t.warnings);
    expect(t.decode(t.encode('the cat 12345'))).toBe('the cat 12345'); // loads and runs
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    new Tokenizer(possessive);
    new Tokenizer(possessive);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/^@lwz\/tokenizer: tokenizer.json pre_tokenizer Split: .*possessive/);
    warn.mockRestore();
  });

  it('names the component it cannot load', () => {
    expect(() => new Tokenizer({ ...json, decoder: { type: 'Metaspace' } })).toThrow(/decoder: type "Metaspace"/);
    expect(() => new Tokenizer({ ...json, pre_tokenizer: null })).toThrow(/needs a ByteLevel pre-tokenizer/);
    expect(() => new Tokenizer({ ...json, model: { ...(json.model as object), dropout: 0.1 } })).toThrow(/dropout/);
    expect(() => new Tokenizer({ ...json, added_tokens: [{ id: 5 }] })).toThrow(/added_tokens\[0\]/);
    expect(() => new Tokenizer(null)).toThrow(/expected a JSON object/);
  });

  it('names the file it read when loading from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-tok-'));
    const file = join(dir, 'my-tok.json');
    writeFileSync(file, JSON.stringify({ ...json, model: undefined }));
    expect(() => Tokenizer.fromFile(file)).toThrow(`${file}: missing "model"`);
    writeFileSync(file, JSON.stringify({ ...json, pre_tokenizer: null }));
    expect(() => Tokenizer.fromFile(file)).toThrow(`${file} pre_tokenizer: a byte-level BPE needs a ByteLevel pre-tokenizer`);
    writeFileSync(file, JSON.stringify(json));
    writeFileSync(join(dir, 'tokenizer_config.json'), '"a string"');
    expect(() => Tokenizer.fromFile(file)).toThrow(`${join(dir, 'tokenizer_config.json')}: expected a JSON object`);
  });

  it('reads tokenizer_config chat templates given as a named list', () => {
    const t = new Tokenizer(json, {
      chat_template: [
        { name: 'tool_use', template: 'x' },
        { name: 'default', template: 'y' },
      ],
    });
    expect(t.config.chatTemplate).toBe('y');
  });
});
