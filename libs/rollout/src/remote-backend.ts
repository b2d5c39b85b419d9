// RemoteRollout: generate() over OpenAI-compatible /v1/completions servers (vLLM, SGLang, llama.cpp server,
// our `serve`) through @lwz/llm-client (retries with backoff on 429/5xx, timeouts, dropped connections,
// concurrency limit, round-robin base URLs). One request per prompt, n answers, seed promptSeed(seed, p):
// a retried request gets the same answers, and `serve` gives what a local generate() gives.
import { UserError } from '@lwz/core';
import { LlmClient, tokenIdOf, type CompletionChoice, type LlmClientConfigInput } from '@lwz/llm-client';
import type { Tokenizer } from '@lwz/tokenizer';
import { parseGenerationConfig, type GenerationConfig, type GenerationConfigInput } from './generation-config';
import { promptSeed } from './rng-streams';
import type { Completion, GenerateOptions, RolloutBackend, RolloutPrompt, TopLogprob } from './types';

export interface RemoteRolloutOptions extends Omit<LlmClientConfigInput, 'model'> {
  /** the served model name (default: the first entry of GET /v1/models) */
  model?: string;
  /** counts text prompts' tokens (for the default max new tokens) and re-encodes answers when a server returns no ids */
  tokenizer?: Tokenizer;
  /** the servers' context length (default: /v1/models `max_model_len`); needed when maxNewTokens is not given */
  contextLength?: number;
  /** jitter source for the client's backoff (tests pass a seeded Rng) */
  rng?: { next(): number };
}

/**
 * The vLLM request fields for a config. Token ids come back through `return_token_ids` /
 * `return_tokens_as_token_ids`; log-probs are the server's (vLLM v1: raw by default). top_k, min_p,
 * repetition_penalty, stop_token_ids and ignore_eos are sent only when they change something;
 * include_stop_str_in_output and skip_special_tokens always (our defaults differ from the servers').
 * A resumed run's `samples` still costs the prompt's whole group (the server draws answers 0..n-1).
 */
function extraFields(c: GenerationConfig): Record<string, unknown> {
  const extra: Record<string, unknown> = {
    include_stop_str_in_output: c.includeStopString,
    skip_special_tokens: c.skipSpecialTokens,
    return_token_ids: true,
    return_tokens_as_token_ids: true,
  };
  if (c.topK > 0) extra.top_k = c.topK;
  if (c.minP > 0) extra.min_p = c.minP;
  if (c.repetitionPenalty !== 1) extra.repetition_penalty = c.repetitionPenalty;
  if (c.stopTokenIds.length) extra.stop_token_ids = c.stopTokenIds;
  if (c.ignoreEos) extra.ignore_eos = true;
  return extra;
}

export class RemoteRollout implements RolloutBackend {
  readonly client: LlmClient;
  private resolved: Promise<{ model: string; contextLength?: number }> | null = null;

  constructor(private readonly opts: RemoteRolloutOptions) {
    const { tokenizer: _t, contextLength: _c, rng, model, ...config } = opts;
    this.client = new LlmClient({ concurrency: 64, ...config, model: model ?? 'unresolved' }, { rng });
  }

  /** The model name and context length, asked from the server once when not configured. */
  private serverInfo(): Promise<{ model: string; contextLength?: number }> {
    this.resolved ??= (async () => {
      if (this.opts.model && this.opts.contextLength) return { model: this.opts.model, contextLength: this.opts.contextLength };
      const models = await this.client.models();
      const entry = this.opts.model ? models.find((m) => m.id === this.opts.model) : models[0];
      if (!entry && !this.opts.model)
        throw new UserError(`${this.client.config.baseUrls[0]}: GET /models lists no model; pass the model name`);
      return { model: this.opts.model ?? (entry?.id as string), contextLength: this.opts.contextLength ?? entry?.maxModelLen };
    })();
    return this.resolved;
  }

  private toCompletion(choice: CompletionChoice, p: number, promptTokens: number, c: GenerationConfig): Completion {
    const lp = choice.logprobs;
    // the client already read the ids from `token_ids` or the token_id:N tokens (tokenIdsOf)
    let tokenIds = choice.tokenIds;
    if (!tokenIds) {
      if (!this.opts.tokenizer)
        throw new UserError(`the server returned no token ids for prompt ${p}; pass a tokenizer to re-encode answers`);
      tokenIds = this.opts.tokenizer.encode(choice.text, { addSpecialTokens: false });
    }
    const logprobs = lp && lp.logprobs.length === tokenIds.length ? lp.logprobs.map((x) => x ?? Number.NaN) : [];
    if (choice.finishReason !== 'stop' && choice.finishReason !== 'length') {
      throw new UserError(`prompt ${p}: the server ended an answer with finish_reason ${JSON.stringify(choice.finishReason)}`);
    }
    const completion: Completion = {
      promptIndex: p,
      sampleIndex: choice.index,
      promptTokens,
      tokenIds,
      logprobs,
      text: choice.text,
      finishReason: choice.finishReason,
    };
    if (c.topLogprobs > 0 && lp?.topLogprobs) {
      completion.topLogprobs = lp.topLogprobs.map((alts) =>
        Object.entries(alts ?? {}).map(([token, logprob]): TopLogprob => {
          const id = tokenIdOf(token);
          return id === undefined ? { id: -1, logprob, token } : { id, logprob };
        }),
      );
    }
    return completion;
  }

  /** The served model's name: the configured one, else the first GET /v1/models entry (asked once). */
  async modelName(): Promise<string> {
    return this.opts.model ?? (await this.serverInfo()).model;
  }

  async generate(
    prompts: readonly RolloutPrompt[],
    input: GenerationConfigInput = {},
    opts: GenerateOptions = {},
  ): Promise<Completion[][]> {
    const config = parseGenerationConfig(input);
    const { model, contextLength } = await this.serverInfo();
    return Promise.all(
      prompts.map(async (prompt, p) => {
        const ids = 'ids' in prompt ? [...prompt.ids] : undefined;
        const promptTokens =
          ids?.length ?? this.opts.tokenizer?.encode((prompt as { text: string }).text, { addSpecialTokens: false }).length;
        // what the context leaves this prompt (when both are known), as the local backend clamps each prompt: a
        // server asked for more refuses the request (vLLM) or cuts it short
        const room = contextLength !== undefined && promptTokens !== undefined ? contextLength - promptTokens : undefined;
        if (room !== undefined && room < 1)
          throw new UserError(`prompt ${p} has ${promptTokens} tokens: no room left in the ${contextLength}-token context`);
        let maxTokens = config.maxNewTokens;
        if (maxTokens === undefined) {
          if (room === undefined) {
            throw new UserError(
              'give maxNewTokens: the server states no context length (or the prompt is text and no tokenizer was given)',
            );
          }
          maxTokens = room;
        } else if (room !== undefined) maxTokens = Math.min(maxTokens, room);
        const result = await this.client.completions({
          model,
          prompt: ids ?? (prompt as { text: string }).text,
          n: config.n,
          maxTokens,
          temperature: config.temperature,
          topP: config.topP,
          stop: config.stop.length ? config.stop : undefined,
          seed: promptSeed(config.seed, prompt.index ?? p),
          logprobs: config.topLogprobs,
          extra: extraFields(config),
        });
        // in the order asked (RolloutBackend: the j-th of `samples`), as LocalRollout answers, not the server's
        const wanted = prompt.samples ?? Array.from({ length: config.n }, (_, j) => j);
        const byIndex = new Map(result.choices.map((ch) => [ch.index, ch]));
        const missing = wanted.filter((j) => !byIndex.has(j));
        if (missing.length)
          throw new Error(
            `the completions server answered prompt ${p} without choice ${missing.join(', ')} of the n = ${config.n} asked (its choices: ${[...byIndex.keys()].join(', ') || 'none'}); the server's reply does not follow the OpenAI completions API`,
          );
        const count = promptTokens ?? result.usage?.promptTokens ?? 0;
        const out = wanted.map((j) => this.toCompletion(byIndex.get(j) as (typeof result.choices)[number], p, count, config));
        for (const c of out) opts.onCompletion?.(c);
        return out;
      }),
    );
  }

  async close(): Promise<void> {
    // nothing held: connections are per request
  }
}
