// The test server's replies in the OpenAI wire shapes: completion and chat bodies, their SSE chunks, and
// the default deterministic responder. Built from "choices" a responder returns; token strings come from
// the choice or from splitting its text into word pieces, so streamed pieces always join to the full text.
// Test support only: not a model, not a tokenizer.
import type { ServerResponse } from 'node:http';
import { hashString } from '@lwz/core';

/** One answer as a responder describes it. */
export interface TestChoice {
  text: string;
  /** default 'stop' */
  finishReason?: string;
  /** the text split into tokens (must join to `text`); default: word pieces with their leading spaces */
  tokens?: string[];
  /** log-prob per token; default: a deterministic value per token and position in [-4, 0) */
  logprobs?: number[];
  /** ids per token, sent as `token_ids` when the request has `return_token_ids: true`; default: hashes mod 50000 */
  tokenIds?: number[];
}

/** What the server understood of a request; responders get this. */
export interface TestRequest {
  endpoint: 'completions' | 'chat' | 'models';
  /** the parsed JSON body ({} for GET /models) */
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** completions: the prompt (token-id prompts as "ids:1,2,3"); chat: the last user message */
  prompt: string;
  n: number;
  stream: boolean;
  /** 1-based arrival number among all requests this server received */
  call: number;
}

export function tokensOf(choice: TestChoice): string[] {
  return choice.tokens ?? (choice.text.match(/\s*\S+|\s+$/g) as string[] | null) ?? [];
}

function logprobsOf(choice: TestChoice, tokens: string[]): number[] {
  return choice.logprobs ?? tokens.map((t, i) => -((hashString(`${i}:${t}`) % 4000) + 1) / 1000);
}

function idsOf(choice: TestChoice, tokens: string[]): number[] {
  return choice.tokenIds ?? tokens.map((t) => hashString(t) % 50000);
}

const WORDS = ['river', 'lantern', 'quiet', 'harbour', 'paper', 'north', 'garden', 'thread', 'stone', 'window', 'amber', 'letter'];

/** The default responder: per choice, a deterministic text from the prompt, the choice number and the seed. */
export function defaultResponder(req: TestRequest): TestChoice[] {
  const seed = typeof req.body.seed === 'number' ? req.body.seed : 'none';
  return Array.from({ length: req.n }, (_, i) => {
    let h = hashString(`${req.prompt}|${i}|${seed}`);
    const words: string[] = [];
    for (let w = 0; w < 8; w++) {
      words.push(WORDS[h % WORDS.length]);
      h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    }
    return { text: `Answer ${i + 1}: ${words.join(' ')}.`, finishReason: 'stop' };
  });
}

interface LogprobOptions {
  /** completions `logprobs` (number of top alternatives) or chat `logprobs: true` */
  wanted: boolean;
  top: number;
  tokenIds: boolean;
}

export function logprobOptions(req: TestRequest): LogprobOptions {
  const lp = req.body.logprobs;
  const wanted = req.endpoint === 'chat' ? lp === true : typeof lp === 'number';
  const top = req.endpoint === 'chat' ? Number(req.body.top_logprobs ?? 0) : typeof lp === 'number' ? lp : 0;
  return { wanted, top, tokenIds: req.body.return_token_ids === true };
}

/** `start`: characters of the choice's text before tokens[0] (a stream chunk's offsets continue, as vLLM's do). */
function completionLogprobs(tokens: string[], lps: number[], top: number, start = 0) {
  let offset = start;
  const textOffset = tokens.map((t) => ((offset += t.length), offset - t.length));
  return {
    tokens,
    token_logprobs: lps,
    top_logprobs: top > 0 ? tokens.map((t, i) => ({ [t]: lps[i] })) : null,
    text_offset: textOffset,
  };
}

function chatLogprobs(tokens: string[], lps: number[], top: number) {
  return { content: tokens.map((t, i) => ({ token: t, logprob: lps[i], top_logprobs: top > 0 ? [{ token: t, logprob: lps[i] }] : [] })) };
}

/** A whole (non-streamed) response body. */
export function responseBody(req: TestRequest, choices: TestChoice[], id: string): Record<string, unknown> {
  const opts = logprobOptions(req);
  const model = String(req.body.model);
  const out = choices.map((c, index) => {
    const tokens = tokensOf(c);
    const lps = logprobsOf(c, tokens);
    const finish_reason = c.finishReason ?? 'stop';
    if (req.endpoint === 'chat') {
      const logprobs = opts.wanted ? chatLogprobs(tokens, lps, opts.top) : null;
      return { index, message: { role: 'assistant', content: c.text }, finish_reason, logprobs };
    }
    const logprobs = opts.wanted ? completionLogprobs(tokens, lps, opts.top) : null;
    return { index, text: c.text, finish_reason, logprobs, ...(opts.tokenIds ? { token_ids: idsOf(c, tokens) } : {}) };
  });
  const completionTokens = choices.reduce((s, c) => s + tokensOf(c).length, 0);
  const usage = {
    prompt_tokens: req.prompt.length,
    completion_tokens: completionTokens,
    total_tokens: req.prompt.length + completionTokens,
  };
  const object = req.endpoint === 'chat' ? 'chat.completion' : 'text_completion';
  return { id, object, created: 0, model, choices: out, usage };
}

/** The SSE chunks of a streamed response: one token of one choice per chunk (choices interleaved), then a finish chunk per choice. */
export function streamChunks(req: TestRequest, choices: TestChoice[], id: string): Record<string, unknown>[] {
  const opts = logprobOptions(req);
  const model = String(req.body.model);
  const object = req.endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  const perChoice = choices.map((c) => {
    const tokens = tokensOf(c);
    return { tokens, lps: logprobsOf(c, tokens) };
  });
  const chunk = (choice: Record<string, unknown>) => ({ id, object, created: 0, model, choices: [choice] });
  const out: Record<string, unknown>[] = [];
  if (req.endpoint === 'chat')
    choices.forEach((_, index) => out.push(chunk({ index, delta: { role: 'assistant', content: '' }, finish_reason: null })));
  const longest = Math.max(0, ...perChoice.map((p) => p.tokens.length));
  for (let t = 0; t < longest; t++) {
    perChoice.forEach(({ tokens, lps }, index) => {
      if (t >= tokens.length) return;
      const piece = [tokens[t]];
      if (req.endpoint === 'chat') {
        out.push(
          chunk({
            index,
            delta: { content: tokens[t] },
            finish_reason: null,
            logprobs: opts.wanted ? chatLogprobs(piece, [lps[t]], opts.top) : null,
          }),
        );
      } else {
        out.push(
          chunk({
            index,
            text: tokens[t],
            finish_reason: null,
            logprobs: opts.wanted ? completionLogprobs(piece, [lps[t]], opts.top, tokens.slice(0, t).join('').length) : null,
          }),
        );
      }
    });
  }
  choices.forEach((c, index) => {
    const finish_reason = c.finishReason ?? 'stop';
    out.push(chunk(req.endpoint === 'chat' ? { index, delta: {}, finish_reason } : { index, text: '', finish_reason }));
  });
  return out;
}

/** A JSON answer with its length. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** An error in OpenAI's shape: `{error: {message, type, code}}`. */
export function apiError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', code: status } }, headers);
}
