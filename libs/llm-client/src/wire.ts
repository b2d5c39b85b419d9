// The OpenAI wire format as zod schemas (responses, stream chunks, /v1/models), loose enough for vLLM,
// SGLang, llama.cpp server and our own `serve`: both logprob shapes (the legacy completions one with
// `tokens`/`token_logprobs`, and the chat one with `content: [{token, logprob}]`) are accepted. Unknown
// fields are ignored. Request types and their snake_case bodies live in requests.ts.
import { z } from '@lwz/core';

const topEntry = z.object({ token: z.string(), logprob: z.number() });

const legacyLogprobs = z.object({
  tokens: z.array(z.string()),
  token_logprobs: z.array(z.number().nullable()),
  top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullable().optional(),
  text_offset: z.array(z.number()).optional(),
});

const contentLogprobs = z.object({
  content: z.array(z.object({ token: z.string(), logprob: z.number(), top_logprobs: z.array(topEntry).nullable().optional() })).nullable(),
});

const logprobsWire = z.union([legacyLogprobs, contentLogprobs]).nullable().optional();
type LogprobsWire = z.infer<typeof logprobsWire>;

const usageWire = z
  .object({ prompt_tokens: z.number(), completion_tokens: z.number().optional(), total_tokens: z.number().optional() })
  .nullable()
  .optional();

const finishReason = z.string().nullable().optional();

export const completionResponseSchema = z.object({
  id: z.string().optional(),
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        index: z.number().int().optional(),
        text: z.string(),
        finish_reason: finishReason,
        logprobs: logprobsWire,
        /** vLLM with `return_token_ids: true` */
        token_ids: z.array(z.number().int()).nullable().optional(),
      }),
    )
    .min(1),
  usage: usageWire,
});

export const chatResponseSchema = z.object({
  id: z.string().optional(),
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        index: z.number().int().optional(),
        message: z.object({
          role: z.string().optional(),
          content: z.string().nullable().optional(),
          reasoning_content: z.string().nullable().optional(),
          /** OpenAI's structured refusal: content is null then */
          refusal: z.string().nullable().optional(),
        }),
        finish_reason: finishReason,
        logprobs: logprobsWire,
      }),
    )
    .min(1),
  usage: usageWire,
});

// a usage-only chunk (stream_options.include_usage) may leave `choices` out altogether
export const completionChunkSchema = z.object({
  choices: z
    .array(
      z.object({ index: z.number().int().optional(), text: z.string().optional(), finish_reason: finishReason, logprobs: logprobsWire }),
    )
    .default([]),
});

export const chatChunkSchema = z.object({
  choices: z
    .array(
      z.object({
        index: z.number().int().optional(),
        delta: z
          .object({
            role: z.string().optional(),
            content: z.string().nullable().optional(),
            reasoning_content: z.string().nullable().optional(),
          })
          .optional(),
        finish_reason: finishReason,
        logprobs: logprobsWire,
      }),
    )
    .default([]),
});

export const modelsResponseSchema = z.object({
  data: z.array(z.object({ id: z.string(), owned_by: z.string().optional(), max_model_len: z.number().optional() })),
});

/** Per-token log-probabilities of the generated tokens, in order ((T,) each). */
export interface TokenLogprobs {
  /** token strings as the server prints them */
  tokens: string[];
  /** log p of each sampled token; null where the server gives none (e.g. the first echoed prompt token) */
  logprobs: (number | null)[];
  /** the top alternatives per position, when asked for */
  topLogprobs?: (Record<string, number> | null)[];
}

export function normaliseLogprobs(wire: LogprobsWire): TokenLogprobs | undefined {
  if (!wire) return undefined;
  if ('tokens' in wire) {
    const out: TokenLogprobs = { tokens: wire.tokens, logprobs: wire.token_logprobs };
    if (wire.top_logprobs) out.topLogprobs = wire.top_logprobs;
    return out;
  }
  if (!wire.content) return undefined;
  const out: TokenLogprobs = { tokens: wire.content.map((c) => c.token), logprobs: wire.content.map((c) => c.logprob) };
  if (wire.content.some((c) => c.top_logprobs)) {
    out.topLogprobs = wire.content.map((c) =>
      c.top_logprobs ? Object.fromEntries(c.top_logprobs.map((t) => [t.token, t.logprob])) : null,
    );
  }
  return out;
}

/** The id in a token printed as "token_id:N" (vLLM `return_tokens_as_token_ids`); undefined for any other token text. */
export function tokenIdOf(token: string): number | undefined {
  const m = /^token_id:(\d+)$/.exec(token);
  return m ? Number(m[1]) : undefined;
}

/**
 * Generated token ids: vLLM's `token_ids` field, else the printed tokens when every one is "token_id:N";
 * undefined when neither gives them (no tokens printed, or a token printed as text).
 */
export function tokenIdsOf(tokenIds: number[] | null | undefined, logprobs: TokenLogprobs | undefined): number[] | undefined {
  if (tokenIds) return tokenIds;
  if (!logprobs || logprobs.tokens.length === 0) return undefined;
  const ids: number[] = [];
  for (const t of logprobs.tokens) {
    const id = tokenIdOf(t);
    if (id === undefined) return undefined;
    ids.push(id);
  }
  return ids;
}

export interface Usage {
  promptTokens: number;
  completionTokens?: number;
  totalTokens?: number;
}

export function normaliseUsage(wire: z.infer<typeof usageWire>): Usage | undefined {
  if (!wire) return undefined;
  return { promptTokens: wire.prompt_tokens, completionTokens: wire.completion_tokens, totalTokens: wire.total_tokens };
}

export interface ModelInfo {
  id: string;
  ownedBy?: string;
  /** context length, where the server says (vLLM does) */
  maxModelLen?: number;
}
