// The judge flags every lwz-arena command shares (endpoint, model, the NAME of the key's environment
// variable, concurrency, timeout, retries, re-asks, template files, cache directory), their zod schema, and
// the LlmClient built from them. The key itself is only read from the environment by the client, never
// printed, logged or saved; results name the judge by model and prompt version, not by URL.
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError, readTextFile, coercedNumberIssues, flagName, parseOverrides, pathFlag, z } from '@lwz/core';
import { checkCacheDir, checkOutDir } from './outputs';
import { LlmClient, LlmClientConfigSchema, parseLlmClientConfig } from '@lwz/llm-client';
import { loadPromptTemplate, type PromptTemplate } from '@lwz/judges';

const count = (min: number) => z.coerce.number().int().min(min);

export const judgeOptionsSchema = z.object({
  judgeUrl: z.string().optional(),
  judgeModel: z.string().optional(),
  judgeKeyEnv: z.string().optional(),
  judgeConcurrency: count(1).default(8),
  judgeTimeoutMs: count(1).default(600_000),
  judgeRetries: count(0).default(5),
  judgeAttempts: count(1).default(3),
  judgeTemplate: pathFlag().optional(),
  judgeSystem: pathFlag().optional(),
  judgeSet: z.array(z.string()).default([]),
  cacheDir: pathFlag().optional(),
});
export type JudgeOptions = z.output<typeof judgeOptionsSchema>;

export function addJudgeOptions(cmd: Command, required: boolean): Command {
  const need = required ? '' : ' (with --judge-model: adds the judged scores)';
  return cmd
    .option('--judge-url <url>', `judge endpoint base URL up to /v1, comma-separated for several${need}`)
    .option('--judge-model <name>', 'the judge model name the endpoint serves')
    .option('--judge-key-env <VAR>', 'NAME of the environment variable holding the API key (never the key itself)')
    .option('--judge-concurrency <n>', 'judge requests in flight at once', '8')
    .option('--judge-timeout-ms <ms>', 'per-attempt timeout of a judge request', '600000')
    .option('--judge-retries <n>', 'retries on 429/5xx/timeouts/dropped connections/malformed bodies', '5')
    .option('--judge-attempts <n>', 'asks per judgment when the reply is unusable (no label, bad score)', '3')
    .option('--judge-template <file>', 'replace our judge prompt (Python-format placeholders, {{ }} for braces)')
    .option('--judge-system <file>', 'system message file for the judge (with --judge-template: none by default)')
    .option('--judge-set <key=value...>', 'any judge client setting, e.g. backoffBaseMs=100 maxRetryAfterMs=5000', [])
    .option('--cache-dir <dir>', 'judgment cache (default: <out>/cache); reruns and resumed runs reuse it');
}

/**
 * The chat judge's own flags, by option key, in the order messages name them: beside a reward-model judge, or with
 * no judge at all (longbench-write without --judge-url), they would do nothing, so a command refuses them by name.
 */
export const CHAT_JUDGE_FLAGS: Readonly<Record<string, string>> = {
  judgeKeyEnv: '--judge-key-env',
  judgeConcurrency: '--judge-concurrency',
  judgeTimeoutMs: '--judge-timeout-ms',
  judgeRetries: '--judge-retries',
  judgeAttempts: '--judge-attempts',
  judgeTemplate: '--judge-template',
  judgeSystem: '--judge-system',
  judgeSet: '--judge-set',
};

/**
 * commander's options without the values it filled in from the defaults of `keys` (the judge flags'): what the user
 * gave (getOptionValueSource 'cli'), so run() can tell a flag given for nothing from its default. The zod schemas
 * hold the same defaults, so leaving them out changes no value.
 */
export function givenOptions<T extends object>(
  cmd: Command,
  opts: T,
  keys: readonly string[] = [...Object.keys(CHAT_JUDGE_FLAGS), 'judgeRmTieMargin'],
): T {
  return Object.fromEntries(Object.entries(opts).filter(([k]) => !keys.includes(k) || cmd.getOptionValueSource(k) !== 'default')) as T;
}

/** The chat judge's flags among the options the user gave (see givenOptions), by flag name; an empty --judge-set list is none. */
export function givenChatFlags(given: object): string[] {
  const o = given as Record<string, unknown>;
  return Object.entries(CHAT_JUDGE_FLAGS)
    .filter(([k]) => o[k] !== undefined && !(Array.isArray(o[k]) && o[k].length === 0))
    .map(([, flag]) => flag);
}

/** Parse commander's options object for a command whose own fields are `schema`. */
export function parseCliOptions<S extends z.ZodType>(schema: S, raw: unknown, command: string): z.output<S> {
  // number flags: decimal text only ("" and "0x10" are not 0 and 16)
  const texts = coercedNumberIssues(schema, raw);
  if (texts.length)
    throw new UserError(
      `lwz-arena ${command}: ${texts.map((i) => `${flagName(i.field)}: expected a decimal number, got ${JSON.stringify(i.text)}`).join('; ')}`,
    );
  const r = schema.safeParse(raw);
  if (r.success) {
    // every command writes into --out DIR: a wrong one is named before any judging (and its cost), not at the end
    const { out, cacheDir } = r.data as { out?: unknown; cacheDir?: unknown };
    if (typeof out === 'string') checkOutDir(out, command);
    // and the judgment cache beside it: its first write comes after the first judge call
    if (typeof cacheDir === 'string') checkCacheDir(cacheDir, command, true);
    else if (typeof out === 'string') checkCacheDir(join(out, 'cache'), command, false);
    return r.data;
  }
  // a repeatable flag's bad value is quoted: which of seven --models entries is wrong
  const value = (path: readonly PropertyKey[]): string => {
    const v = path.length === 2 ? (raw as Record<string, unknown> | null)?.[String(path[0])] : undefined;
    return Array.isArray(v) && typeof path[1] === 'number' ? ` ${JSON.stringify(v[path[1]])}` : '';
  };
  throw new UserError(
    `lwz-arena ${command}: ${r.error.issues.map((i) => `${flagName(String(i.path[0] ?? ''))}${value(i.path)}: ${i.message}`).join('; ')}`,
  );
}

/** True when both --judge-url and --judge-model are given; one without the other is an error. */
export function hasJudge(o: JudgeOptions): boolean {
  if ((o.judgeUrl === undefined) !== (o.judgeModel === undefined))
    throw new UserError('give both --judge-url and --judge-model (or neither)');
  return o.judgeUrl !== undefined;
}

/** The client fields the --judge-* flags set, by flag. */
const FLAG_OF: Record<string, string> = {
  baseUrls: '--judge-url',
  model: '--judge-model',
  apiKeyEnv: '--judge-key-env',
  concurrency: '--judge-concurrency',
  timeoutMs: '--judge-timeout-ms',
  maxRetries: '--judge-retries',
  cacheDir: '--cache-dir',
};
/**
 * What --judge-set may not set: which judge answers and where its verdicts are kept (results.json names the judge by
 * the flags; `id` names it in the cache). The numeric settings the flags also set (concurrency, timeout, retries) it may.
 */
const IDENTITY = ['baseUrls', 'model', 'apiKeyEnv', 'cacheDir', 'id'];

/**
 * A client config message in the words of what set each field: the flag (apiKeyEnv -> --judge-key-env, ...), or
 * `--judge-set maxRetries` for a field --judge-set gave (it replaces the flag's value).
 */
const inFlagWords = (message: string, fromSet: readonly string[]): string =>
  Object.entries(FLAG_OF).reduce(
    (m, [field, flag]) => m.replace(new RegExp(`\\b${field}\\b`, 'g'), fromSet.includes(field) ? `--judge-set ${field}` : flag),
    message,
  );

export function judgeClient(o: JudgeOptions, out: string): LlmClient {
  if (!hasJudge(o)) throw new UserError('this command needs a judge: --judge-url URL --judge-model NAME [--judge-key-env VAR]');
  const overrides = parseOverrides(o.judgeSet);
  const settable = Object.keys(LlmClientConfigSchema.shape).filter((k) => !IDENTITY.includes(k));
  for (const key of Object.keys(overrides)) {
    if (IDENTITY.includes(key))
      throw new UserError(
        `--judge-set ${key}: ${FLAG_OF[key] ? `set it with ${FLAG_OF[key]}` : 'not settable (it names the judge in the cache)'}`,
      );
    if (!settable.includes(key)) throw new UserError(`--judge-set ${key}: not a judge client setting; valid: ${settable.join(', ')}`);
  }
  const raw = {
    id: 'lwz-arena-judge',
    baseUrls: o.judgeUrl,
    model: o.judgeModel,
    apiKeyEnv: o.judgeKeyEnv,
    concurrency: o.judgeConcurrency,
    timeoutMs: o.judgeTimeoutMs,
    maxRetries: o.judgeRetries,
    cacheDir: o.cacheDir ?? join(out, 'cache'),
    ...overrides,
  };
  try {
    return new LlmClient(parseLlmClientConfig(raw, 'the --judge-* options'));
  } catch (e) {
    throw e instanceof UserError ? new UserError(inFlagWords(e.message, Object.keys(overrides))) : e;
  }
}

/** The user's template (checked against the placeholders this judge fills) and system message, if given. */
export function judgePrompt(
  o: JudgeOptions,
  fields: readonly string[],
  required: readonly string[],
): { template?: PromptTemplate; system?: string | null; userSystem?: boolean } {
  const template = o.judgeTemplate === undefined ? undefined : loadPromptTemplate(o.judgeTemplate, fields, required);
  let system: string | null | undefined;
  if (o.judgeSystem !== undefined) {
    system = readTextFile(o.judgeSystem, { label: `--judge-system ${o.judgeSystem}` }).trim();
  }
  return { ...(template ? { template } : {}), ...(system !== undefined ? { system, userSystem: true } : {}) };
}
