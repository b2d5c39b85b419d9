// The LLM length predictor (@lwz/rewards LengthPredictor) over any OpenAI-compatible chat endpoint: our
// range-assessor prompt (rewards' assessor.ts) per distinct prompt, the reply validated there and re-asked
// with the validation error, each accepted range cached on disk per prompt (llm-client's ResponseCache,
// keyed by LENGTH_ASSESSOR_VERSION + model + sha256(prompt)). Registered as the length predictor "llm".
// When every ask is unusable it falls back to the built-in feature predictor (or throws, `fallback: 'throw'`);
// a fallback is never cached, so a rerun asks the LLM again. Not the prompt text: that lives in @lwz/rewards.
import { createHash } from 'node:crypto';
import { UserError, z } from '@lwz/core';
import { InvalidReplyError, LlmClient, LlmClientConfigSchema, ResponseCache, type CacheStats, type Validator } from '@lwz/llm-client';
import {
  LENGTH_ASSESSOR_VERSION,
  buildLengthAssessorMessages,
  parseLengthAssessorReply,
  predictRangeFromFeatures,
  rangeRuleViolation,
  registerLengthPredictor,
  type LengthPrediction,
  type LengthPredictor,
} from '@lwz/rewards';
import { followUp, settleAll } from './ask';

type WordRange = LengthPrediction['range'];

/** What to do with a prompt whose every ask gave no valid range. */
export type LengthFallback = 'builtin' | 'throw';

export interface LlmLengthPredictorOptions {
  /** asks per prompt, the first included (default 3) */
  maxAttempts?: number;
  /** the prediction cache, one file per prompt; none when absent */
  cacheDir?: string;
  /** default 'builtin': the feature predictor's range for that prompt (see the file head) */
  fallback?: LengthFallback;
  /** told about each fallback (index in the predict() call, the last rejection) */
  onFallback?: (index: number, reason: string) => void;
  /** sampling temperature of each ask (default 0) */
  temperature?: number;
  /** the reply's token budget (default 1024; a reasoning model may need more) */
  maxTokens?: number;
}

export interface LlmLengthPredictorStats {
  /** prompts answered by the LLM now (not from the cache) */
  asked: number;
  /** prompts answered from the prediction cache */
  cached: number;
  /** prompts given the built-in predictor's range */
  fallbacks: number;
  /** the prediction cache's counters; undefined without cacheDir */
  cache?: CacheStats;
}

// request settings: both are part of the cache key, so a changed setting asks again
const DEFAULT_REQUEST = { temperature: 0, maxTokens: 1024 } as const;

interface Stored {
  range: WordRange;
  asks: number;
}

const validRange: Validator<WordRange> = (reply) => {
  const v = parseLengthAssessorReply(reply);
  return v.ok ? { ok: true, value: v.range } : { ok: false, reason: v.error };
};

export class LlmLengthPredictor implements LengthPredictor {
  /** `llm:<model>@<assessor version>`: changes whenever the predictions could */
  readonly id: string;
  private readonly cache?: ResponseCache;
  private readonly maxAttempts: number;
  private readonly fallback: LengthFallback;
  private readonly request: { temperature: number; maxTokens: number };
  private readonly counts = { asked: 0, cached: 0, fallbacks: 0 };

  constructor(
    private readonly client: LlmClient,
    private readonly options: LlmLengthPredictorOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 3;
    if (!(Number.isInteger(this.maxAttempts) && this.maxAttempts >= 1))
      throw new UserError(`llm length predictor: maxAttempts must be a positive integer, got ${this.maxAttempts}`);
    this.fallback = options.fallback ?? 'builtin';
    this.request = {
      temperature: options.temperature ?? DEFAULT_REQUEST.temperature,
      maxTokens: options.maxTokens ?? DEFAULT_REQUEST.maxTokens,
    };
    if (!(this.request.temperature >= 0 && Number.isInteger(this.request.maxTokens) && this.request.maxTokens >= 1))
      throw new UserError(
        `llm length predictor: temperature must be >= 0 and maxTokens a positive integer, got ${this.request.temperature} and ${this.request.maxTokens}`,
      );
    this.id = `llm:${client.model}@${LENGTH_ASSESSOR_VERSION}`;
    if (options.cacheDir) this.cache = new ResponseCache(options.cacheDir);
  }

  /**
   * One range per prompt, in order; each distinct prompt asked once, all in flight at once (the client's
   * concurrency queues them). Errors name a prompt by its first index in `prompts`.
   */
  async predict(prompts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<LengthPrediction[]> {
    const first = new Map<string, number>();
    prompts.forEach((p, i) => first.has(p) || first.set(p, i));
    const predicted = await settleAll([...first], ([prompt, i], _k, signal) => this.predictOne(prompt, i, signal), {
      signal: options.signal,
    });
    const byPrompt = new Map([...first.keys()].map((p, k) => [p, predicted[k]]));
    return prompts.map((p) => {
      const { range, fallback } = byPrompt.get(p) as LengthPrediction;
      return { range: [...range] as WordRange, ...(fallback ? { fallback } : {}) };
    });
  }

  stats(): LlmLengthPredictorStats {
    return { ...this.counts, cache: this.cache?.stats() };
  }

  private async predictOne(prompt: string, index: number, signal?: AbortSignal): Promise<LengthPrediction> {
    const ask = async (): Promise<Stored> => {
      const res = await this.client.askUntilValid({ messages: buildLengthAssessorMessages(prompt), ...this.request }, validRange, {
        maxAttempts: this.maxAttempts,
        signal,
        revise: followUp('{"range": [lo, hi]}'),
      });
      this.counts.asked += 1;
      return { range: res.value, asks: res.attempts.length };
    };
    try {
      if (!this.cache) return { range: (await ask()).range };
      const parts = {
        id: LENGTH_ASSESSOR_VERSION,
        endpoint: 'length-prediction',
        body: { model: this.client.model, prompt_sha256: createHash('sha256').update(prompt).digest('hex'), ...this.request },
      };
      const { raw, cached } = await this.cache.getOrCall(parts, ask, (r) => rangeRuleViolation((r as Stored | null)?.range) === null);
      if (cached) this.counts.cached += 1;
      return { range: (raw as Stored).range };
    } catch (e) {
      // the client's errors are already free of the API key (it redacts them); this one only adds the index
      if (signal?.aborted) throw e;
      if (!(e instanceof InvalidReplyError)) {
        throw Object.assign(new UserError(`length predictor ${this.id}: prompt ${index}: ${(e as Error).message}`), { cause: e });
      }
      if (this.fallback === 'throw') {
        throw new UserError(
          `length predictor ${this.id}: prompt ${index} got no valid range in ${e.asks.length} asks (${e.message}); ` +
            'raise length.predictor.options.maxAttempts, or set fallback "builtin" to use the feature predictor for such prompts',
        );
      }
      this.counts.fallbacks += 1;
      this.options.onFallback?.(index, e.asks[e.asks.length - 1]?.reason ?? 'no usable reply');
      return { range: predictRangeFromFeatures(prompt), fallback: true };
    }
  }
}

const OWN_OPTIONS = {
  maxAttempts: z.number().int().min(1).default(3).describe('asks per prompt, the first included'),
  fallback: z.enum(['builtin', 'throw']).default('builtin').describe('a prompt with no valid range after maxAttempts asks'),
  temperature: z.number().min(0).default(DEFAULT_REQUEST.temperature).describe('sampling temperature of each ask'),
  maxTokens: z
    .number()
    .int()
    .positive()
    .default(DEFAULT_REQUEST.maxTokens)
    .describe("the reply's token budget (raise it for a reasoning model)"),
};
const llmPredictorOptionsSchema = LlmClientConfigSchema.extend(OWN_OPTIONS).strict();

/**
 * `length.predictor.options`: the LlmClient config fields (baseUrls, model, apiKeyEnv, timeoutMs, retries,
 * concurrency, ...; `cacheDir` holds the predictions), plus `maxAttempts`, `fallback`, `temperature` and `maxTokens`.
 */
export function createLlmLengthPredictor(options: Record<string, unknown>): LlmLengthPredictor {
  const parsed = llmPredictorOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const valid = Object.keys(llmPredictorOptionsSchema.shape).join(', ');
    const issues = parsed.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((k) => `length.predictor.options.${k}: unknown field (valid: ${valid})`)
        : [`length.predictor.options.${i.path.join('.')}: ${i.message}`],
    );
    throw new UserError(`llm length predictor: ${issues.join('; ')}`);
  }
  const { maxAttempts, fallback, cacheDir, temperature, maxTokens, ...clientConfig } = parsed.data;
  // replies are not cached by the client: only accepted ranges are, so a failed prompt is asked afresh on a rerun
  return new LlmLengthPredictor(new LlmClient(clientConfig), { maxAttempts, fallback, cacheDir, temperature, maxTokens });
}

registerLengthPredictor('llm', createLlmLengthPredictor);
