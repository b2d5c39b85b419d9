// The request bodies `serve` accepts, as zod schemas of the OpenAI wire format (snake_case), plus the vLLM
// extensions the remote backend and vLLM users send (top_k, min_p, repetition_penalty, stop_token_ids,
// ignore_eos, include_stop_str_in_output, skip_special_tokens, return_token_ids,
// return_tokens_as_token_ids). Unknown fields are ignored, as OpenAI does; features we do not implement
// (echo, suffix, logit_bias, presence/frequency penalties, best_of > n, tools, vLLM's continue_final_message and
// chat_template_kwargs) are refused with a 400
// naming the field rather than silently ignored. Turning a body into a GenerationConfig: openai-requests.ts.
import { z } from '@lwz/core';

const stop = z.union([z.string(), z.array(z.string()).max(16)]).nullish();

const sampling = {
  model: z.string().min(1),
  n: z.number().int().min(1).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(100).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(-1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  repetition_penalty: z.number().gt(0).max(10).nullish(),
  stop,
  stop_token_ids: z.array(z.number().int().min(0)).nullish(),
  ignore_eos: z.boolean().nullish(),
  include_stop_str_in_output: z.boolean().nullish(),
  skip_special_tokens: z.boolean().nullish(),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  return_token_ids: z.boolean().nullish(),
  return_tokens_as_token_ids: z.boolean().nullish(),
  user: z.string().nullish(),
  // accepted only at their no-op values
  presence_penalty: z.literal(0).nullish(),
  frequency_penalty: z.literal(0).nullish(),
  logit_bias: z
    .record(z.string(), z.number())
    .refine((o) => Object.keys(o).length === 0, 'logit_bias is not supported')
    .nullish(),
};

const tokenIds = z.array(z.number().int().min(0)).min(1);

export const CompletionBodySchema = z.object({
  ...sampling,
  /** a text, token ids, or a list of either (one group of n choices per prompt) */
  prompt: z.union([z.string().min(1), tokenIds, z.array(z.string().min(1)).min(1).max(64), z.array(tokenIds).min(1).max(64)]),
  /** top alternatives per token (0: the sampled token's log-prob only) */
  logprobs: z.number().int().min(0).max(20).nullish(),
  echo: z.literal(false).nullish(),
  suffix: z.null().optional(),
  best_of: z.number().int().min(1).nullish(),
});
export type CompletionBody = z.output<typeof CompletionBodySchema>;

const textPart = z.object({ type: z.literal('text'), text: z.string() });

export const ChatBodySchema = z.object({
  ...sampling,
  messages: z
    .array(
      z.object({
        // 'developer': OpenAI's newer name for the system role (its client sends it), rendered as system
        role: z.enum(['system', 'developer', 'user', 'assistant']),
        content: z.union([z.string(), z.array(textPart).min(1)]),
      }),
    )
    .min(1)
    .max(256),
  max_completion_tokens: z.number().int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  tools: z.null().optional(),
  response_format: z.object({ type: z.literal('text') }).nullish(),
  // vLLM's chat-template extensions, accepted only at what this server does (a generation prompt after the last
  // message); asking to continue the last assistant message or to pass template arguments is refused
  add_generation_prompt: z.literal(true).nullish(),
  continue_final_message: z.literal(false).nullish(),
  chat_template_kwargs: z
    .record(z.string(), z.unknown())
    .refine((o) => Object.keys(o).length === 0, 'chat_template_kwargs is not supported')
    .nullish(),
});
export type ChatBody = z.output<typeof ChatBodySchema>;

/** The first problem of a failed parse as `{message, param}` for an OpenAI-style 400. */
export function firstIssue(error: z.ZodError): { message: string; param: string | null } {
  const issue = error.issues[0];
  const param = issue.path.length ? issue.path.join('.') : null;
  return { message: `${param ?? 'body'}: ${issue.message}`, param };
}
