// Two of `serve`'s defaults that a random test model rarely reaches, on a scripted model: special tokens are left
// out of the text unless skip_special_tokens is false (vLLM's default), and a chat answer ends at the turn-end token
// <|im_end|> unless ignore_eos is set (the chat template's end is its eos, as vLLM treats it).
import { Rng } from '@lwz/core';
import { initModel } from '@lwz/model';
import { renderChatML } from '@lwz/tokenizer';
import { Engine } from '../engine';
import { LocalRollout } from '../local-backend';
import { byteTokenizer } from '../testing/byte-tokenizer';
import { ScriptModel } from '../testing/mock-model';
import { smallTestConfig } from '../testing/model-config';
import { startServer } from './openai-server';

const tok = byteTokenizer();
const config = smallTestConfig({ vocabSize: tok.vocabSize, maxPositionEmbeddings: 256, eosTokenId: tok.tokenToId('<|endoftext|>') });
const bytes = (s: string) => Array.from(new TextEncoder().encode(s));
const id = (t: string) => tok.tokenToId(t) as number;

/** `serve` over a model that answers `script` after a prompt of `promptLength` tokens, whatever it is asked. */
async function scripted(promptLength: number, script: number[]) {
  const rollout = new LocalRollout(initModel(config, new Rng(1)), tok, { maxBatch: 4 });
  (rollout as unknown as { engine: Engine }).engine = new Engine(new ScriptModel(tok.vocabSize, 256, promptLength, script), tok);
  const server = await startServer(rollout, { port: 0, modelName: 'tiny' });
  const post = async (path: string, body: object) =>
    (await (
      await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    ).json()) as { choices: { text?: string; message?: { content: string }; finish_reason: string }[] };
  return { post, close: async () => (await server.close(), await rollout.close()) };
}

describe('serve defaults on a scripted model', () => {
  it('leaves special tokens out of the text unless skip_special_tokens is false; added tokens that are not special stay', async () => {
    const script = [...bytes('ab'), id('<|im_start|>'), ...bytes('c'), id('<think>'), ...bytes('d')];
    const s = await scripted(1, script);
    try {
      const body = { model: 'tiny', prompt: [65], max_tokens: script.length, temperature: 0 };
      const plain = await s.post('/completions', body);
      expect(plain.choices[0]).toMatchObject({ text: 'abc<think>d', finish_reason: 'length' });
      const kept = await s.post('/completions', { ...body, skip_special_tokens: false });
      expect(kept.choices[0].text).toBe('ab<|im_start|>c<think>d');
    } finally {
      await s.close();
    }
  });

  it('ends a chat answer at <|im_end|> unless ignore_eos is set', async () => {
    const messages = [{ role: 'user' as const, content: 'Hi' }];
    const promptLength = tok.encode(renderChatML(messages), { addSpecialTokens: false }).length;
    const script = [...bytes('ok'), id('<|im_end|>'), ...bytes('xy')];
    const s = await scripted(promptLength, script);
    try {
      const body = { model: 'tiny', messages, max_tokens: script.length, temperature: 0 };
      const ended = await s.post('/chat/completions', body);
      expect(ended.choices[0]).toMatchObject({ message: { content: 'ok' }, finish_reason: 'stop' });
      const going = await s.post('/chat/completions', { ...body, ignore_eos: true });
      expect(going.choices[0]).toMatchObject({ message: { content: 'okxy' }, finish_reason: 'length' });
    } finally {
      await s.close();
    }
  });
});
