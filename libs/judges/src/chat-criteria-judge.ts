// The criteria judge over any OpenAI-compatible chat endpoint: one call per (request, response, criterion),
// the reply ending with JSON {"score": <integer in range>, "reason": "..."}; a reply without one, or with a
// score out of range, is re-asked with a follow-up (CONTRACTS.md's judge protocol). Used for WritingBench's
// 1-10 criteria, LongBench-Write's 1-5 quality dimensions and the quality reward's rubric. Every reply is
// in the client's disk cache before it is used (llm-client), so reruns make no call. A judgment with no
// usable reply after maxAttempts asks has score null (a rerun with more attempts asks further). Not the aggregation.
import { z } from '@lwz/core';
import { jsonReply, type LlmClient } from '@lwz/llm-client';
import { askOrGiveUp, excerpt, followUp, promptVersion, settleAll } from './ask';
import { CRITERIA_FIELDS, CRITERIA_PROMPT_VERSION, DEFAULT_CRITERIA_SYSTEM, DEFAULT_CRITERIA_TEMPLATE } from './prompts';
import { PromptTemplate } from './template';

/** A criterion as WritingBench writes one (data's Criterion fits): bands map "1-2".. to descriptions. */
export interface JudgeCriterion {
  name: string;
  description: string;
  bands?: Readonly<Record<string, string>>;
}

export interface CriteriaItem {
  /** the writing request */
  query: string;
  /** the text under judgement */
  response: string;
  criterion: JudgeCriterion;
}

export interface CriterionJudgment {
  /** an integer in the judge's range; null when no ask gave a usable reply (aggregates leave it out) */
  score: number | null;
  /** the judge's reason (untrusted model text); when score is null, why the last reply was rejected and the reply */
  reason: string;
  /** asks it took (1 = the first reply was usable) */
  asks: number;
  /** every ask came from the disk cache */
  cached: boolean;
}

export interface ChatCriteriaJudgeOptions {
  /** inclusive integer score range (default [1, 10]) */
  range?: readonly [number, number];
  /** user template (placeholders CRITERIA_FIELDS); default: ours */
  template?: PromptTemplate;
  /** system message; null for none; default ours with our template, none with a user template */
  system?: string | null;
  /** asks per judgment, the first included (default 3) */
  maxAttempts?: number;
  /** default 0 */
  temperature?: number;
  /** default 1024 */
  maxTokens?: number;
  /** names a built-in alternative template in the id (e.g. eval's LongBench-Write prompt); user templates get a hash */
  promptVersion?: string;
  /** `system` is the user's own (with a built-in template): the id gets its hash, as results name the judge by it */
  userSystem?: boolean;
}

/** How a criterion appears in the prompt's {criteria} slot. */
export function formatCriterion(c: JudgeCriterion): string {
  const lines = [`Name: ${c.name}`, `What it measures: ${c.description}`];
  const bands = Object.entries(c.bands ?? {});
  if (bands.length) lines.push('Score bands:', ...bands.map(([k, v]) => `  ${k}: ${v}`));
  return lines.join('\n');
}

/** What WritingBench and LongBench-Write scoring need from a criteria judge. */
export interface CriteriaJudge {
  readonly id: string;
  /** inclusive integer score range */
  readonly range: readonly [number, number];
  judgeAll(
    items: readonly CriteriaItem[],
    options?: { signal?: AbortSignal; onJudged?: (index: number, j: CriterionJudgment) => void },
  ): Promise<CriterionJudgment[]>;
}

export class ChatCriteriaJudge implements CriteriaJudge {
  /** names the judge in results: endpoint model, prompt version, range */
  readonly id: string;
  readonly range: readonly [number, number];
  private readonly template: PromptTemplate;
  private readonly system: string | null;
  private readonly maxAttempts: number;
  private readonly temperature: number;
  private readonly maxTokens: number;

  constructor(
    private readonly client: LlmClient,
    options: ChatCriteriaJudgeOptions = {},
  ) {
    const [lo, hi] = options.range ?? [1, 10];
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo < hi))
      throw new Error(`criteria judge range must be integers lo < hi, got [${lo}, ${hi}]`);
    this.range = [lo, hi];
    this.template = options.template ?? new PromptTemplate(DEFAULT_CRITERIA_TEMPLATE, 'built-in critic', CRITERIA_FIELDS, ['response']);
    this.system = options.system !== undefined ? options.system : options.template ? null : DEFAULT_CRITERIA_SYSTEM;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.temperature = options.temperature ?? 0;
    this.maxTokens = options.maxTokens ?? 1024;
    this.id = `chat-criteria:${client.model}@${promptVersion(options, this.template.text, this.system, CRITERIA_PROMPT_VERSION)}/${lo}-${hi}`;
  }

  /** The exact messages sent for `item` (also what the cache key holds). */
  messages(item: CriteriaItem): { role: 'system' | 'user'; content: string }[] {
    const [lo, hi] = this.range;
    const user = this.template.render({
      query: item.query,
      response: item.response,
      criteria: formatCriterion(item.criterion),
      criterion_name: item.criterion.name,
      min: String(lo),
      max: String(hi),
    });
    return [...(this.system === null ? [] : [{ role: 'system' as const, content: this.system }]), { role: 'user' as const, content: user }];
  }

  async judge(item: CriteriaItem, options: { signal?: AbortSignal } = {}): Promise<CriterionJudgment> {
    const [lo, hi] = this.range;
    const schema = z.object({
      score: z.number().int().min(lo).max(hi),
      reason: z.string().default(''),
    });
    const res = await askOrGiveUp(
      this.client,
      { messages: this.messages(item), temperature: this.temperature, maxTokens: this.maxTokens },
      jsonReply(schema),
      {
        maxAttempts: this.maxAttempts,
        signal: options.signal,
        revise: followUp(`{"score": <integer from ${lo} to ${hi}>, "reason": "..."}`),
      },
    );
    return res.ok
      ? { score: res.value.score, reason: res.value.reason, asks: res.asks, cached: res.cached }
      : { score: null, reason: `no usable reply (${res.reason}); last reply: ${res.reply}`, asks: res.asks, cached: res.cached };
  }

  /** Every item at once (the client's concurrency limit queues them); `onJudged` fires as each lands. */
  judgeAll(
    items: readonly CriteriaItem[],
    options: { signal?: AbortSignal; onJudged?: (index: number, j: CriterionJudgment) => void } = {},
  ): Promise<CriterionJudgment[]> {
    return settleAll(
      items,
      async (item, i, signal) => {
        const j = await this.judge(item, { signal });
        options.onJudged?.(i, j);
        return j;
      },
      { signal: options.signal, describe: (item) => `judging criterion "${item.criterion.name}" of the answer to ${excerpt(item.query)}` },
    );
  }
}
