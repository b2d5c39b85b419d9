// Completions log-probs through `serve`: a streamed reply's chunks, joined per choice, give the same tokens,
// log-probs, alternatives and text_offset as the JSON reply, and text_offset is where each token's text begins in
// the choice's text, in characters (code points, as vLLM counts them with Python's len). Checked on a random model's
// answers (multi-byte characters, pieces of them, stop strings) and on a scripted one whose offsets are known.
import { Rng } from '@lwz/core';
import { initModel } from '@lwz/model';
import { Engine } from '../engine';
import { LocalRollout } from '../local-backend';
import { byteTokenizer } from '../testing/byte-tokenizer';
import { ScriptModel } from '../testing/mock-model';
import { smallTestConfig } from '../testing/model-config';
import { startServer, type RunningServer } from './openai-server';

const tok = byteTokenizer();
const config = smallTestConfig({ vocabSize: tok.vocabSize, maxPositionEmbeddings: 256, eosTokenId: tok.tokenToId('<|endoftext|>') });

interface Logprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: object[] | null;
  text_offset: number[];
}
interface Choice {
  index: number;
  text: string;
  logprobs: Logprobs;
  finish_reason: string | null;
}

/** The same request as JSON and as a stream whose chunks are joined per choice. */
async function bothWays(server: RunningServer, body: object): Promise<{ full: Choice[]; joined: Choice[] }> {
  const send = (stream: boolean) =>
    fetch(`${server.url}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, stream }),
    });
  const full = ((await (await send(false)).json()) as { choices: Choice[] }).choices;
  const joined: Choice[] = full.map((c) => ({
    index: c.index,
    text: '',
    logprobs: { tokens: [], token_logprobs: [], top_logprobs: c.logprobs.top_logprobs && [], text_offset: [] },
    finish_reason: null,
  }));
  for (const event of (await (await send(true)).text()).split('\n\n').filter((e) => e && e !== 'data: [DONE]')) {
    const part = (JSON.parse(event.slice('data: '.length)) as { choices: Choice[] }).choices[0];
    const into = joined[part.index];
    into.text += part.text;
    into.finish_reason ??= part.finish_reason;
    into.logprobs.tokens.push(...part.logprobs.tokens);
    into.logprobs.token_logprobs.push(...part.logprobs.token_logprobs);
    into.logprobs.top_logprobs?.push(...(part.logprobs.top_logprobs ?? []));
    into.logprobs.text_offset.push(...part.logprobs.text_offset);
  }
  return { full: full.map(({ index, text, logprobs, finish_reason }) => ({ index, text, logprobs, finish_reason })), joined };
}

describe('completions log-probs', () => {
  it('random answers: the joined stream equals the JSON reply, and each whole token sits at its text_offset', async () => {
    const rollout = new LocalRollout(initModel(config, new Rng(1)), tok, { maxBatch: 8 });
    const server = await startServer(rollout, { port: 0, modelName: 'tiny' });
    try {
      // seed 17: answers with multi-byte characters (one outside the BMP: two UTF-16 units, one character) and tokens
      // that are pieces of them; with a stop string, answers cut inside the text and text held back while it may begin one
      for (const stop of [undefined, ['ans']]) {
        const body = { model: 'tiny', prompt: 'Hello there', max_tokens: 32, n: 3, seed: 17, logprobs: 1, stop };
        const { full, joined } = await bothWays(server, body);
        expect(joined).toEqual(full);
        const chars = full.flatMap((c) => [...c.text]);
        if (!stop) expect(chars.some((ch) => ch.length === 2) && chars.some((ch) => ch > '\u00ff' && ch < '\uFFFD')).toBe(true);
        else expect(full.some((c) => c.finish_reason === 'stop' && c.logprobs.tokens.join('').includes('ans'))).toBe(true);
        for (const { text, logprobs } of full) {
          const textChars = [...text];
          const { tokens, text_offset: offsets } = logprobs;
          expect(offsets[0]).toBe(0);
          offsets.forEach((at, k) => {
            expect(at).toBeGreaterThanOrEqual(k ? offsets[k - 1] : 0);
            expect(at).toBeLessThanOrEqual(textChars.length);
            // a whole token's text is where its offset says (a piece of a character prints as U+FFFD)
            const own = [...tokens[k]];
            if (!tokens[k].includes('\uFFFD') && at + own.length <= textChars.length)
              expect(textChars.slice(at, at + own.length).join('')).toBe(tokens[k]);
          });
        }
      }
    } finally {
      await server.close();
      await rollout.close();
    }
  });

  it('scripted answer: offsets count characters, a started character counts at once, held-back text waits for its offsets', async () => {
    const bytes = (s: string) => Array.from(new TextEncoder().encode(s));
    // x a a a c | é split in two | an invalid lead byte, then # | 😀 split in four | z, end of text
    const script = [...bytes('xaaac'), 0xc3, 0xa9, 0xe4, ...bytes('#'), 0xf0, 0x9f, 0x98, 0x80, ...bytes('z'), config.eosTokenId as number];
    const rollout = new LocalRollout(initModel(config, new Rng(1)), tok, { maxBatch: 4 });
    (rollout as unknown as { engine: Engine }).engine = new Engine(new ScriptModel(tok.vocabSize, 256, 1, script), tok);
    const server = await startServer(rollout, { port: 0, modelName: 'tiny' });
    try {
      const body = { model: 'tiny', prompt: [65], max_tokens: 20, n: 2, temperature: 0, logprobs: 0 };
      // "aab": while "aa" may begin it, the third a's chunk sends only the a whose offsets the text sent so far holds
      const held = await bothWays(server, { ...body, stop: ['aab'] });
      expect(held.joined).toEqual(held.full);
      expect(held.full[0].text).toBe('xaaacé\uFFFD#😀z');
      // é's second byte and # (after the lead byte it ended) sit after the character the byte before them began
      expect(held.full[0].logprobs.text_offset).toEqual([0, 1, 2, 3, 4, 5, 6, 6, 7, 8, 9, 9, 9, 9, 10]);
      // cut at a stop string: offsets past the text's end are its end
      const cut = await bothWays(server, { ...body, stop: ['#'] });
      expect(cut.joined).toEqual(cut.full);
      expect(cut.full[1].text).toBe('xaaacé\uFFFD');
      expect(cut.full[1].logprobs.text_offset).toEqual([0, 1, 2, 3, 4, 5, 6, 6, 7]);
    } finally {
      await server.close();
      await rollout.close();
    }
  });
});
