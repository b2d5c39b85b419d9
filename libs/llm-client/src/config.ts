// The client's configuration: one zod schema with documented defaults, validated in one place
// (`parseLlmClientConfig`), and the API key read from the environment variable the config NAMES. The key
// itself is never a config value: a config that looks like it holds one is refused without echoing it.
import { UserError, parseConfig, z } from '@lwz/core';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEY_PREFIX = /^(sk-|sk_|hf_|gsk_|Bearer\s)/;

/**
 * A value given where a variable NAME belongs that is likely the key itself: a known key prefix, a long hex string,
 * or a long mix of lower case, upper case and digits without the underscores variable names have. Never echoed.
 */
export function looksLikeApiKey(s: string): boolean {
  if (KEY_PREFIX.test(s) || /^[0-9a-f]{24,}$/i.test(s)) return true;
  return s.length >= 20 && !s.includes('_') && /[a-z]/.test(s) && /[A-Z]/.test(s) && /\d/.test(s);
}

/**
 * A copy of a config for printing: the user:password part of URLs and an apiKeyEnv that looks like a key are
 * masked, so a dump made before the config is checked cannot show a secret the check would refuse to echo.
 */
export function maskSecrets<T>(value: T): T {
  const mask = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') {
      if (key === 'apiKeyEnv' && looksLikeApiKey(v)) return '[REDACTED]';
      return v.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@');
    }
    if (Array.isArray(v)) return v.map((x) => mask(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x, k)]));
    return v;
  };
  return mask(value) as T;
}

const baseUrl = z
  .string()
  .refine((s) => /^https?:\/\/[^\s]+$/.test(s) && URL.canParse(s), {
    message: 'expected an http(s) URL up to the /v1 part, as OpenAI clients take it, e.g. http://127.0.0.1:8000/v1',
  })
  .refine(
    (s) => {
      if (!URL.canParse(s)) return true; // the check above names it
      const u = new URL(s);
      return u.username === '' && u.password === '' && u.search === '' && u.hash === '';
    },
    {
      // the value is not echoed: a user:password@ or ?api-key= part is a secret
      message:
        'a base URL cannot hold user:password@, a ?query or a #fragment: the request path is appended to it and its secrets would reach error messages; give the key through apiKeyEnv',
    },
  )
  .transform((s) => s.replace(/\/+$/, ''));

// what a judge's or predictor's config must name, said when it is left out (the schema's own words would be zod's
// "expected array, received undefined")
const BASE_URLS_HINT = 'give the server base URL(s) up to /v1, e.g. "http://127.0.0.1:8000/v1"';
const MODEL_HINT = 'name the served model (GET <baseUrl>/models lists them)';

export const LlmClientConfigSchema = z.object({
  /**
   * One or more server base URLs, each up to and including `/v1` (vLLM, SGLang and llama.cpp server:
   * `http://HOST:PORT/v1`). Several are used round-robin; a failed request is retried on the next one.
   * A single string is accepted, and so is a comma-separated list (handy for CLI flags).
   */
  baseUrls: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v),
    z
      .array(baseUrl, { error: (i) => (i.input === undefined ? `missing: ${BASE_URLS_HINT}` : undefined) })
      .min(1, { message: 'give at least one base URL, e.g. ["http://127.0.0.1:8000/v1"]' }),
  ),
  /** The model name the server expects (vLLM: --served-model-name; `GET /v1/models` lists them). */
  model: z.string({ error: (i) => (i.input === undefined ? `missing: ${MODEL_HINT}` : undefined) }).min(1, { message: MODEL_HINT }),
  /**
   * The NAME of the environment variable that holds the API key (e.g. "OPENAI_API_KEY"), not the key.
   * Leave it out for servers without keys (a local vLLM or `lwz-train serve`).
   */
  apiKeyEnv: z
    .string()
    .refine((s) => !looksLikeApiKey(s), {
      message: 'this looks like an API key itself: put the key in an environment variable and give that variable name here',
    })
    .refine((s) => ENV_NAME.test(s), { message: 'expected an environment variable name such as OPENAI_API_KEY' })
    .optional(),
  /** Names this client in cache keys: give each judge or predictor its own id (default "default"). */
  id: z.string().min(1).default('default'),
  /** Per-attempt limit in ms for a complete answer; for streams, the longest silence between events. Default 600000 (long answers take minutes). */
  timeoutMs: z.number().int().positive().default(600_000),
  /** Retries after the first attempt on 429, 408, 5xx, timeouts, dropped connections and malformed bodies. Default 5. */
  maxRetries: z.number().int().min(0).default(5),
  /** First backoff step in ms; step k waits base * 2^k, jittered to [half, all] of it, at most backoffMaxMs. Default 500. */
  backoffBaseMs: z.number().int().min(0).default(500),
  /** Longest backoff step in ms. Default 30000. */
  backoffMaxMs: z.number().int().min(0).default(30_000),
  /** Longest Retry-After (or retry-after-ms) the client honours, in ms. Default 60000. */
  maxRetryAfterMs: z.number().int().min(0).default(60_000),
  /** Requests in flight at once, over all calls of this client (a queue holds the rest). Default 8. */
  concurrency: z.number().int().positive().default(8),
  /** Directory of the response cache (one JSON file per request); no cache when absent. */
  cacheDir: z.string().min(1).optional(),
});

/** What callers write (defaults optional). */
export type LlmClientConfigInput = z.input<typeof LlmClientConfigSchema>;
/** The validated config, defaults filled in. */
export type LlmClientConfig = z.output<typeof LlmClientConfigSchema>;

/** Validate a client config; a UserError lists every bad field and how to fix it. `source` names where it came from. */
export function parseLlmClientConfig(raw: unknown, source = 'llm client config'): LlmClientConfig {
  return parseConfig(LlmClientConfigSchema, raw, source);
}

/**
 * The API key from the variable the config names; undefined when it names none. Trimmed: fetch strips the
 * whitespace around a header value, so a key read with its file's trailing newline is sent (and echoed) without
 * it, and only the trimmed key matches what redaction must cut out.
 */
export function resolveApiKey(config: Pick<LlmClientConfig, 'apiKeyEnv'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!config.apiKeyEnv) return undefined;
  const key = env[config.apiKeyEnv]?.trim();
  if (!key) {
    throw new UserError(
      `apiKeyEnv names the environment variable ${config.apiKeyEnv}, which is not set: export ${config.apiKeyEnv}=<your key>, ` +
        'or remove apiKeyEnv for a server that needs no key',
    );
  }
  return key;
}
