// `lwz-train sample --checkpoint DIR --prompts F.jsonl --out F.jsonl [--template think|direct] [--n N]
// [--max-new-tokens N] [--temperature T] [--top-p P] [--seed S] [--rollout-url URL]`: n answers per prompt
// (any prompt format @lwz/data loads), rendered with the checkpoint's chat template (or ChatML) under the
// think or direct template, one CONTRACTS.md sample line appended per answer as it finishes. Rerunning skips
// the answers --out already holds (answer j of prompt row i always draws from the same random stream, so a
// resumed file equals an uninterrupted one). --rollout-url sends the work to OpenAI-compatible servers.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError, lockOutput, parseConfig, z } from '@lwz/core';
import { loadPromptFile, type PromptRow } from '@lwz/data';
import { readModelConfig } from '@lwz/model';
import {
  KvBudgetError,
  LocalRollout,
  RemoteRollout,
  appendSample,
  checkSamplesPath,
  resumeSamples,
  sampleKey,
  sampleLine,
  type RolloutBackend,
  type RolloutPrompt,
  type SamplingSettings,
} from '@lwz/rollout';
import { TEMPLATE_NAMES, Tokenizer, getTemplate, renderPromptFor } from '@lwz/tokenizer';
import { resolveCheckpoint } from '../checkpoints';

const OptionsSchema = z.object({
  checkpoint: z.string().min(1),
  prompts: z.string().min(1),
  out: z.string().min(1),
  template: z.enum(TEMPLATE_NAMES as unknown as ['think', 'direct']).default('think'),
  n: z.coerce.number().int().min(1).default(1),
  /** default: what the context leaves after each prompt */
  maxNewTokens: z.coerce.number().int().min(1).optional(),
  temperature: z.coerce.number().min(0).default(1),
  topP: z.coerce.number().gt(0).max(1).default(1),
  topK: z.coerce.number().int().min(0).default(0),
  seed: z.coerce.number().int().min(0).default(0),
  /** only the first N prompt rows */
  limit: z.coerce.number().int().min(1).optional(),
  rolloutUrl: z.array(z.string().min(1)).optional(),
  rolloutModel: z.string().optional(),
  maxBatch: z.coerce.number().int().min(1).default(32),
  kvBudgetMb: z.coerce.number().int().min(1).default(1024),
  /** local: leave out prompts that fill the checkpoint's context (default: stop with an error naming them) */
  skipLong: z.boolean().default(false),
});
export type SampleOptions = z.input<typeof OptionsSchema>;
type SampleConfig = z.output<typeof OptionsSchema> & { checkpoint: string };

export interface SampleResult {
  written: number;
  skipped: number;
  prompts: number;
  /** prompt rows left out by --skip-long (file:line each) */
  tooLong: string[];
  /** the prompt file's format as the loader detected it (CONTRACTS: the loader says which format it detected) */
  format: string;
}

/** One prompt row still to answer: its encoded prompt, the samples it lacks and the template's prefill. */
interface Work {
  row: PromptRow;
  prompt: RolloutPrompt & { ids: readonly number[] };
  prefill: string;
}

function tokenizerOf(checkpoint: string): Tokenizer {
  const path = join(checkpoint, 'tokenizer.json');
  if (!existsSync(path))
    throw new UserError(
      `${checkpoint} has no tokenizer.json: sampling renders prompts and decodes answers with it; copy the tokenizer.json and tokenizer_config.json the checkpoint was trained with into it`,
    );
  return Tokenizer.fromFile(path);
}

export async function run(input: SampleOptions): Promise<SampleResult> {
  const parsed = parseConfig(OptionsSchema, input, 'lwz-train sample options', { flags: true });
  // a run directory stands for its newest checkpoint (with --rollout-url only the tokenizer is read from it)
  const o = { ...parsed, checkpoint: resolveCheckpoint(parsed.checkpoint, '--checkpoint') };
  const tokenizer = tokenizerOf(o.checkpoint);
  const set = loadPromptFile(o.prompts);
  const rows = set.rows.slice(0, o.limit ?? set.rows.length);
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.id))
      throw new UserError(`${o.prompts}:${row.line}: id ${JSON.stringify(row.id)} repeats; sample lines are keyed by id`);
    seen.add(row.id);
  }
  // with --rollout-url the served model's name is asked first, so a file resumes only against the same model
  const remote = o.rolloutUrl ? new RemoteRollout({ baseUrls: o.rolloutUrl, model: o.rolloutModel, tokenizer }) : undefined;
  // what every line records and a resumed file must match (the samples of one file come from one setting)
  const sampling: SamplingSettings = {
    checkpoint: remote ? `${await remote.modelName()} at ${o.rolloutUrl?.join(', ')}` : resolve(o.checkpoint),
    template: o.template,
    temperature: o.temperature,
    top_p: o.topP,
    top_k: o.topK,
    max_new_tokens: o.maxNewTokens ?? null,
    seed: o.seed,
  };
  checkSamplesPath(o.out); // a directory named as --out's problem, before the lock (whose own check says less)
  const release = lockOutput(o.out, 'another `lwz-train sample`');
  try {
    return { ...(await sampleInto(o, rows, tokenizer, sampling, remote)), format: set.format };
  } finally {
    release();
  }
}

async function sampleInto(
  o: SampleConfig,
  rows: PromptRow[],
  tokenizer: Tokenizer,
  sampling: SamplingSettings,
  remote: RemoteRollout | undefined,
): Promise<Omit<SampleResult, 'format'>> {
  const done = resumeSamples(o.out, sampling, new Map(rows.map((r) => [r.id, r.prompt])));
  const template = getTemplate(o.template);
  const work: Work[] = [];
  let stop: string[] = [...template.stopStrings];
  rows.forEach((row, index) => {
    const samples = Array.from({ length: o.n }, (_, j) => j).filter((j) => !done.has(sampleKey(row.id, j)));
    if (!samples.length) return;
    const rendered = renderPromptFor(tokenizer, template, row.prompt);
    stop = rendered.stopStrings;
    const ids = tokenizer.encode(rendered.text, { addSpecialTokens: false });
    work.push({ row, prompt: { ids, index, samples }, prefill: rendered.prefill });
  });
  const skipped = rows.length * o.n - work.reduce((s, w) => s + (w.prompt.samples?.length ?? 0), 0);
  // a prompt that fills the local model's context leaves nothing to answer in (a server says so itself): checked
  // against the checkpoint's config before its weights load
  const context = !o.rolloutUrl && work.length ? readModelConfig(o.checkpoint).maxPositionEmbeddings : Infinity;
  const long = work.filter((w) => w.prompt.ids.length >= context);
  if (long.length && !o.skipLong) {
    const { row, prompt } = long[0];
    throw new UserError(
      `${o.prompts}:${row.line}: prompt ${JSON.stringify(row.id)} is ${prompt.ids.length} tokens with the ${o.template} template, and the checkpoint's context holds ${context}: ` +
        'no room to answer. Shorten it, sample from a longer-context checkpoint, or pass --skip-long to leave such prompts out',
    );
  }
  const tooLong = long.map((w) => `${o.prompts}:${w.row.line}`);
  const todo = work.filter((w) => w.prompt.ids.length < context);
  if (!todo.length) return { written: 0, skipped, prompts: rows.length, tooLong };
  const backend: RolloutBackend =
    remote ?? LocalRollout.fromCheckpoint(o.checkpoint, { maxBatch: o.maxBatch, kvBudgetBytes: o.kvBudgetMb * 2 ** 20 });
  let written = 0;
  try {
    await backend.generate(
      todo.map((w) => w.prompt),
      { n: o.n, maxNewTokens: o.maxNewTokens, temperature: o.temperature, topP: o.topP, topK: o.topK, seed: o.seed, stop },
      {
        progress: 'sample',
        onCompletion: (c) => {
          const w = todo[c.promptIndex];
          appendSample(o.out, { ...sampleLine(w.row, c, template.name, w.prefill), sampling });
          written++;
        },
      },
    );
  } catch (e) {
    throw e instanceof KvBudgetError ? kvBudgetRefusal(o, todo, e) : e;
  } finally {
    await backend.close();
  }
  return { written, skipped, prompts: rows.length, tooLong };
}

/**
 * The engine's KV budget refusal (it checks every prompt before generating any) said as this command's user acts on
 * it: the engine counts prompts among those still to answer ("prompt 1" for a resumed file's third row) and names
 * no flag; this names the row by file:line and the --max-new-tokens that every prompt left fits. The refusal of
 * one answer (no `call`: not from generate's check) is passed on as it is.
 */
function kvBudgetRefusal(o: SampleConfig, todo: readonly Work[], e: KvBudgetError): UserError {
  if (!e.call) return e;
  const { promptIndex, fitsEvery } = e.call;
  const w = todo[promptIndex];
  const what = `${o.prompts}:${w.row.line}: prompt ${JSON.stringify(w.row.id)} is ${e.promptTokens} tokens with the ${o.template} template`;
  if (e.fit < 1) return new UserError(`${what}, more than --kv-budget-mb ${o.kvBudgetMb} holds: raise --kv-budget-mb, or shorten it`);
  return new UserError(
    `${what}; with ${e.maxNewTokens} new tokens its answer does not fit --kv-budget-mb ${o.kvBudgetMb}: ` +
      `pass --max-new-tokens ${fitsEvery} or less (what every prompt left fits), or raise --kv-budget-mb`,
  );
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function register(program: Command): void {
  program
    .command('sample')
    .description('n answers per prompt, one JSON line per answer (resumable: rerun skips answers already in --out)')
    .requiredOption(
      '--checkpoint <dir>',
      'checkpoint directory (Hugging Face layout, with tokenizer.json), or a run directory (its newest checkpoint)',
    )
    .requiredOption('--prompts <file>', 'prompt file (LongBench-Write, WritingBench, Arena-Write, generated, or {prompt} JSONL)')
    .requiredOption('--out <file>', 'samples JSONL (appended; existing answers are kept and skipped)')
    .option('--template <name>', `prompt template: ${TEMPLATE_NAMES.join(' or ')}`, 'think')
    .option('--n <n>', 'answers per prompt', '1')
    .option('--max-new-tokens <n>', "new tokens per answer (default: what the checkpoint's context leaves after the prompt)")
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', '1')
    .option('--top-p <p>', 'nucleus sampling mass', '1')
    .option('--top-k <k>', 'keep the k most likely tokens (0 = all)', '0')
    .option('--seed <s>', 'random seed (answer j of prompt row i is reproducible)', '0')
    .option('--limit <n>', 'only the first n prompt rows')
    .option(
      '--rollout-url <url>',
      'OpenAI-compatible server base URL up to /v1, as `lwz-train serve` prints it (repeat for round-robin); default: sample locally',
      collect,
    )
    .option('--rollout-model <name>', 'model name for --rollout-url (default: the first /v1/models entry)')
    .option('--max-batch <n>', 'local: most answers decoded together', '32')
    .option('--kv-budget-mb <n>', 'local: KV cache memory cap in MiB', '1024')
    .option('--skip-long', "local: leave out prompts that fill the checkpoint's context (default: stop with an error naming them)")
    .action(async (o: SampleOptions) => {
      const r = await run(o);
      if (r.tooLong.length)
        console.error(`sample: left out ${r.tooLong.length} prompts longer than the context (--skip-long): ${r.tooLong.join(', ')}`);
      console.error(
        `sample: ${r.written} answers written to ${o.out} (${r.skipped} already there) for ${r.prompts} prompts (${o.prompts}: ${r.format})`,
      );
    });
}
