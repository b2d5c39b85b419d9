// `serve` through the official `openai` npm client (completions and chat, JSON and streaming, n, seed, stop,
// logprobs) and through raw fetch for what a client library would hide: OpenAI-style 4xx errors for bad
// JSON, bad fields, unknown models, oversized bodies and over-cap max_tokens; 429 when the queue is full;
// a client that goes away frees its rows. A seeded request gives the answers a local generate() gives for
// the same group seed (so remote and local rollouts agree).
import { connect } from 'node:net';
import OpenAI from 'openai';
import { Rng } from '@lwz/core';
import { initModel } from '@lwz/model';
import { LocalRollout } from '../local-backend';
import { promptSeed } from '../rng-streams';
import { byteTokenizer } from '../testing/byte-tokenizer';
import { smallTestConfig } from '../testing/model-config';
import { startServer, type RunningServer } from './openai-server';

const tok = byteTokenizer();
const config = smallTestConfig({ vocabSize: tok.vocabSize, maxPositionEmbeddings: 256, eosTokenId: tok.tokenToId('<|endoftext|>') });

let rollout: LocalRollout;
let server: RunningServer;
let client: OpenAI;

beforeAll(async () => {
  rollout = new LocalRollout(initModel(config, new Rng(1)), tok, { maxBatch: 8 });
  server = await startServer(rollout, { port: 0, modelName: 'tiny', maxTokens: 64, maxBodyBytes: 4096 });
  client = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await server.close();
  await rollout.close();
});

async function post(
  path: string,
  body: string,
): Promise<{ status: number; json: { error?: { message: string; param: string | null } } & Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: (await res.json()) as never };
}

describe('serve with the openai client', () => {
  it('lists the model, completes, and streams the same text', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['tiny']);
    expect((await client.models.retrieve('tiny')).id).toBe('tiny');
    await expect(client.models.retrieve('other')).rejects.toMatchObject({ status: 404 });
    const req = { model: 'tiny', prompt: 'Hello there', max_tokens: 12, temperature: 0.9, seed: 42, n: 2, logprobs: 2 };
    const full = await client.completions.create(req);
    expect(full.choices).toHaveLength(2);
    const counts = full.choices.map((c) => c.logprobs?.tokens?.length ?? -1);
    expect(full.choices.map((c) => c.logprobs?.token_logprobs?.length)).toEqual(counts);
    expect(counts[0] + counts[1]).toBe(full.usage?.completion_tokens);
    expect(Object.keys(full.choices[0].logprobs?.top_logprobs?.[0] ?? {}).length).toBeGreaterThan(0);
    const streamed = ['', ''];
    const finish: (string | null)[] = [null, null];
    for await (const part of await client.completions.create({ ...req, stream: true })) {
      for (const c of part.choices) {
        streamed[c.index] += c.text;
        if (c.finish_reason) finish[c.index] = c.finish_reason;
      }
    }
    expect(streamed).toEqual(full.choices.map((c) => c.text));
    expect(finish).toEqual(full.choices.map((c) => c.finish_reason));
  });

  it('chat: JSON and streamed replies agree, with logprobs and stop strings', async () => {
    const req = {
      model: 'tiny',
      messages: [{ role: 'user' as const, content: 'Say something' }],
      max_tokens: 16,
      seed: 7,
      temperature: 1,
      stop: ['e'],
    };
    const full = await client.chat.completions.create({ ...req, logprobs: true, top_logprobs: 2 });
    const choice = full.choices[0];
    expect(choice.message.role).toBe('assistant');
    expect(choice.message.content ?? '').not.toContain('e');
    expect(choice.logprobs?.content?.[0].top_logprobs).toHaveLength(2);
    let text = '';
    let role = '';
    for await (const part of await client.chat.completions.create({ ...req, stream: true })) {
      text += part.choices[0]?.delta?.content ?? '';
      role ||= part.choices[0]?.delta?.role ?? '';
    }
    expect(role).toBe('assistant');
    expect(text).toBe(choice.message.content);
    // the 'developer' role (OpenAI's newer name for system) renders as the system message
    const sys = { ...req, stop: undefined, messages: [{ role: 'system' as const, content: 'Be brief.' }, ...req.messages] };
    const dev = { ...sys, messages: [{ role: 'developer' as const, content: 'Be brief.' }, ...req.messages] };
    expect((await client.chat.completions.create(dev)).choices[0].message.content).toBe(
      (await client.chat.completions.create(sys)).choices[0].message.content,
    );
  });

  it("chat log-probs' bytes are each token's own bytes, so a character split across tokens joins back", async () => {
    const { status, json } = await post(
      '/chat/completions',
      JSON.stringify({
        model: 'tiny',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 8,
        seed: 1,
        logprobs: true,
        return_token_ids: true,
      }),
    );
    expect(status).toBe(200);
    const choice = (
      json.choices as { message: { content: string }; logprobs: { content: { bytes: number[] }[] }; token_ids: number[] }[]
    )[0];
    // a byte-level model emits pieces of multi-byte characters: U+FFFD as the token text, its own byte in `bytes`
    expect(choice.token_ids.some((id) => tok.decode([id]) === '\uFFFD')).toBe(true);
    expect(choice.logprobs.content.map((c) => c.bytes)).toEqual(choice.token_ids.map((id) => Array.from(tok.idBytes(id))));
    expect(Buffer.from(choice.logprobs.content.flatMap((c) => c.bytes)).toString('utf8')).toBe(choice.message.content);
  });

  it('a seeded single-prompt request gives the answers local generate() gives for that group seed', async () => {
    const ids = tok.encode('Once upon');
    const local = await rollout.generate([{ ids }], {
      n: 3,
      temperature: 0.8,
      maxNewTokens: 10,
      seed: 5,
      skipSpecialTokens: true,
      includeStopString: false,
    });
    const seed = promptSeed(5, 0);
    const { status, json } = await post(
      '/completions',
      JSON.stringify({ model: 'tiny', prompt: ids, n: 3, max_tokens: 10, temperature: 0.8, seed, return_token_ids: true }),
    );
    expect(status).toBe(200);
    const choices = json.choices as { token_ids: number[]; text: string }[];
    expect(choices.map((c) => c.token_ids)).toEqual(local[0].map((c) => c.tokenIds));
    expect(choices.map((c) => c.text)).toEqual(local[0].map((c) => c.text));
  });

  it("a list of prompts: choice p * n + j is local answer j of prompt p (seeded promptSeed(seed, p)) under serve's defaults", async () => {
    const prompts = [tok.encode('Once upon'), tok.encode('The sea')];
    const settings = {
      n: 2,
      temperature: 0.9,
      maxNewTokens: 12,
      seed: 6,
      stop: [] as string[],
      skipSpecialTokens: true,
      includeStopString: false,
    };
    const generate = async () =>
      (
        await rollout.generate(
          prompts.map((ids) => ({ ids })),
          settings,
        )
      ).flat();
    settings.stop = (await generate()).map((c) => c.text.slice(3, 5)); // strings the answers do write
    const local = await generate();
    expect(local.every((c) => c.finishReason === 'stop')).toBe(true); // each is met and left out of the text
    const body = { model: 'tiny', prompt: prompts, n: 2, max_tokens: 12, temperature: 0.9, top_k: -1, seed: 6, stop: settings.stop };
    const { status, json } = await post('/completions', JSON.stringify({ ...body, logprobs: 0, return_token_ids: true }));
    expect(status).toBe(200);
    type Choice = { index: number; token_ids: number[]; text: string; logprobs: { tokens: string[]; text_offset: number[] } };
    const choices = json.choices as Choice[];
    expect(choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(choices.map((c) => [c.token_ids, c.text])).toEqual(local.map((c) => [c.tokenIds, c.text]));
    // text_offset: the characters (code points) the tokens before each decode to, at most the text's (the stop string
    // is cut from the text); a character begun and not finished counts as one, as decode's U+FFFD does
    for (const { token_ids: ids, text, logprobs: lp } of choices) {
      const chars = (s: string) => [...s].length;
      const expected = ids.map((_, i) => Math.min(chars(tok.decode(ids.slice(0, i), { skipSpecialTokens: true })), chars(text)));
      expect(lp.text_offset).toEqual(expected);
    }
  });
});

describe('serve refuses bad requests with OpenAI-style errors', () => {
  it('400 for bad JSON, bad fields and over-cap tokens; 404 for unknown models and routes; 413 for big bodies', async () => {
    expect((await post('/completions', '{"model": "tiny", "prompt": ')).status).toBe(400);
    const badTemp = await post('/completions', JSON.stringify({ model: 'tiny', prompt: 'x', temperature: 'hot' }));
    expect(badTemp).toMatchObject({ status: 400, json: { error: { param: 'temperature' } } });
    // fields the schema takes but the generation config refuses name their request field too
    const emptyStop = await post('/completions', JSON.stringify({ model: 'tiny', prompt: 'x', stop: [''] }));
    expect(emptyStop).toMatchObject({ status: 400, json: { error: { param: 'stop' } } });
    expect((await post('/completions', JSON.stringify({ model: 'tiny', prompt: 'x', max_tokens: 65 }))).json.error?.message).toMatch(
      /at most 64/,
    );
    expect((await post('/completions', JSON.stringify({ model: 'tiny', prompt: 'x', echo: true }))).status).toBe(400);
    expect((await post('/completions', JSON.stringify({ model: 'big', prompt: 'x' }))).status).toBe(404);
    expect((await post('/chat/completions', JSON.stringify({ model: 'tiny', messages: [] }))).json.error?.param).toBe('messages');
    expect((await post('/nowhere', '{}')).status).toBe(404);
    // alternatives asked for without the log-probs they go with: OpenAI and vLLM answer 400 too
    const topOnly = await post(
      '/chat/completions',
      JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], top_logprobs: 2 }),
    );
    expect(topOnly).toMatchObject({ status: 400, json: { error: { param: 'top_logprobs' } } });
    // vLLM's chat-template extensions beyond what the server does are refused by name, not ignored
    const chatWith = (extra: object) =>
      post('/chat/completions', JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], ...extra }));
    expect((await chatWith({ continue_final_message: true })).json.error?.param).toBe('continue_final_message');
    expect((await chatWith({ chat_template_kwargs: { enable_thinking: false } })).json.error?.message).toMatch(
      /chat_template_kwargs is not supported/,
    );
    expect((await chatWith({ add_generation_prompt: false })).json.error?.param).toBe('add_generation_prompt');
    // a chat request's limits name the fields it sent: messages (not prompt), max_completion_tokens when it used that
    const longChat = await post(
      '/chat/completions',
      JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'x'.repeat(300) }] }),
    );
    expect(longChat.json.error).toMatchObject({
      param: 'messages',
      message: expect.stringMatching(/^messages: \d+ tokens leave no room .*shorten it/),
    });
    const overRoom = await chatWith({ max_completion_tokens: 64, messages: [{ role: 'user', content: 'x'.repeat(200) }] });
    expect(overRoom.json.error).toMatchObject({
      param: 'max_completion_tokens',
      message: expect.stringMatching(
        /^max_completion_tokens: the prompt \(\d+ tokens\) plus 64 .*ask for at most \d+, or leave max_completion_tokens out$/,
      ),
    });
    expect((await chatWith({ max_completion_tokens: 65 })).json.error?.param).toBe('max_completion_tokens');
    expect((await chatWith({ max_tokens: 65 })).json.error?.param).toBe('max_tokens');
    expect(
      (await chatWith({ add_generation_prompt: true, continue_final_message: false, chat_template_kwargs: {}, max_tokens: 2 })).status,
    ).toBe(200);
    expect((await post('/completions', JSON.stringify({ model: 'tiny', prompt: 'x'.repeat(5000) }))).status).toBe(413);
    expect((await fetch(`${server.url.replace('/v1', '')}/health`)).status).toBe(200);
  });

  it('429 when the queue is full; a client that disconnects frees its rows', async () => {
    const busy = await startServer(rollout, { port: 0, modelName: 'tiny', maxConcurrent: 1, maxQueued: 0 });
    try {
      const long = JSON.stringify({ model: 'tiny', prompt: 'x', max_tokens: 200, ignore_eos: true, stream: true });
      const abort = new AbortController();
      const first = await fetch(`${busy.url}/completions`, {
        method: 'POST',
        body: long,
        signal: abort.signal,
        headers: { 'content-type': 'application/json' },
      });
      expect(first.status).toBe(200);
      const second = await fetch(`${busy.url}/completions`, {
        method: 'POST',
        body: long,
        headers: { 'content-type': 'application/json' },
      });
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe('1');
      abort.abort();
      for (let i = 0; i < 200 && busy.stats().running > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(busy.stats().running).toBe(0);
      expect(rollout.engine.load.running).toBe(0);
    } finally {
      await busy.close();
    }
  });
  it('a client that leaves while queued leaves the queue at once, and its request is never generated', async () => {
    const busy = await startServer(rollout, { port: 0, modelName: 'tiny', maxConcurrent: 1, maxQueued: 4 });
    try {
      const send = (body: object, signal: AbortSignal) =>
        fetch(`${busy.url}/completions`, {
          method: 'POST',
          body: JSON.stringify({ model: 'tiny', prompt: 'x', ...body }),
          signal,
          headers: { 'content-type': 'application/json' },
        });
      const wait = async (until: () => boolean) => {
        for (let i = 0; i < 300 && !until(); i++) await new Promise((r) => setTimeout(r, 5));
      };
      // the first holds the one turn for seconds (64 answers of 250 tokens, 8 at a time)
      const stopFirst = new AbortController();
      const first = await send({ n: 64, max_tokens: 250, ignore_eos: true, stream: true }, stopFirst.signal);
      expect(first.status).toBe(200);
      const leave = new AbortController();
      const second = send({ max_tokens: 5 }, leave.signal).catch(() => 'aborted');
      await wait(() => busy.stats().waiting === 1);
      expect(busy.stats().waiting).toBe(1);
      leave.abort();
      expect(await second).toBe('aborted');
      await wait(() => busy.stats().waiting === 0);
      expect(busy.stats().waiting).toBe(0);
      expect(busy.stats().running).toBe(1); // while the first still runs
      stopFirst.abort();
      await wait(() => busy.stats().running === 0 && rollout.engine.load.running + rollout.engine.load.queued === 0);
      expect(busy.stats().running).toBe(0);
      expect(busy.stats().status).toEqual({}); // no reply was finished: the first was cut off, the second never began
    } finally {
      await busy.close();
    }
  });

  it('a body that never finishes gets 408 and its connection closed; an answer streaming for longer is not cut', async () => {
    const quick = await startServer(rollout, { port: 0, modelName: 'tiny', requestTimeoutMs: 50 });
    try {
      const reply = await new Promise<string>((resolve) => {
        let got = '';
        const socket = connect(quick.port, '127.0.0.1', () =>
          socket.write(
            'POST /v1/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"model":',
          ),
        );
        socket.on('data', (d: Buffer) => (got += d.toString()));
        const giveUp = setTimeout(() => socket.destroy(), 3000); // still open: no answer
        socket.on('close', () => {
          clearTimeout(giveUp);
          resolve(got);
        });
      });
      expect(reply).toMatch(/^HTTP\/1\.1 408 /);
      const started = Date.now();
      const res = await fetch(`${quick.url}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny', prompt: 'x', n: 64, max_tokens: 200, ignore_eos: true, stream: true }),
      });
      const events = (await res.text()).split('\n\n').filter(Boolean);
      expect(Date.now() - started).toBeGreaterThan(150);
      expect(events.at(-1)).toBe('data: [DONE]');
    } finally {
      await quick.close();
    }
  });

  it('the KV budget caps answers: without max_tokens one gets what fits, asking for more is a 400 saying how much fits; a stream that fails later ends with an error event', async () => {
    const small = new LocalRollout(initModel(config, new Rng(1)), tok, { maxBatch: 4, kvBudgetBytes: 32 * 1024 }); // 256 bytes a token: 128 tokens
    const srv = await startServer(small, { port: 0, modelName: 'tiny' });
    try {
      const send = (body: object, stream = false) =>
        fetch(`${srv.url}/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'tiny', prompt: 'x', ...body, stream }),
        });
      for (const stream of [false, true]) {
        const res = await send({ max_tokens: 250 }, stream);
        expect(res.status).toBe(400);
        const { error } = (await res.json()) as { error: { message: string; param: string } };
        expect(error.param).toBe('max_tokens');
        const [, fit, prompt] =
          /^max_tokens: this server's KV budget holds at most (\d+) new tokens after a (\d+)-token prompt, got 250; ask for at most \1, or leave max_tokens out$/.exec(
            error.message,
          ) ?? [];
        expect(Number(prompt) + Number(fit) - 1).toBe(128);
      }
      // a request that names no max_tokens (as chat clients) is answered up to what fits, not refused
      const capped = await send({ ignore_eos: true });
      expect(capped.status).toBe(200);
      const full = (await capped.json()) as {
        choices: { finish_reason: string }[];
        usage: { prompt_tokens: number; completion_tokens: number };
      };
      expect(full.choices[0].finish_reason).toBe('length');
      expect(full.usage.prompt_tokens + full.usage.completion_tokens - 1).toBe(128);
      const tooLong = (await (await send({ prompt: 'y'.repeat(150) })).json()) as { error: { message: string; param: string } };
      expect(tooLong.error).toMatchObject({
        param: 'prompt',
        message: expect.stringMatching(/^prompt: 150 tokens do not fit this server's KV budget; shorten it/),
      });
      // an engine failure after the stream started: the last event names it (no silent cut-off)
      (small.engine as unknown as { decode: () => void }).decode = () => {
        throw new Error('decode exploded');
      };
      const res = await fetch(`${srv.url}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny', prompt: 'x', max_tokens: 20, stream: true }),
      });
      expect(res.status).toBe(200);
      const events = (await res.text()).split('\n\n').filter(Boolean);
      expect(events.at(-1)).toMatch(/^data: \{"error":\{"message":"internal error: decode exploded"/);
      expect(events).not.toContain('data: [DONE]');
    } finally {
      await srv.close();
      await small.close();
    }
  });
});
