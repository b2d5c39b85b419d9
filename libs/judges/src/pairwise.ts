// The PairwiseJudge interface the arena runs on, and its chat implementation: the prompt shows the user's
// request, answer A, then answer B, and the reply ends with a verdict label; a reply without one is re-asked
// (CONTRACTS.md). Reward-model judges implement the same interface through pairwiseFromScorer
// (scorer-pairwise.ts). The arena asks for both orders itself; a judge sees one order per item.
import type { LlmClient } from '@lwz/llm-client';
import { askOrGiveUp, excerpt, followUp, promptVersion, settleAll } from './ask';
import { DEFAULT_PAIRWISE_SYSTEM, DEFAULT_PAIRWISE_TEMPLATE, PAIRWISE_FIELDS, PAIRWISE_PROMPT_VERSION } from './prompts';
import { PromptTemplate } from './template';
import { verdictLabelList, verdictReply, type VerdictLabel, type VerdictLevels } from './verdict';

export interface PairwiseItem {
  /** the user's request */
  prompt: string;
  /** answer shown first */
  a: string;
  /** answer shown second */
  b: string;
}

export interface PairwiseVerdict {
  /** null when the judge gave no usable verdict in its asks (the arena leaves the battle out) */
  label: VerdictLabel | null;
  /** the judge's explanation (untrusted model text); for scorer judges, the two scores */
  reason: string;
  /** scorer judges: each answer's score */
  scoreA?: number;
  scoreB?: number;
  /** asks it took (chat judges) */
  asks?: number;
  /** served from a disk cache without a call */
  cached?: boolean;
}

export interface PairwiseJudgeOptions {
  signal?: AbortSignal;
  /** called as each verdict lands (progress, incremental saving) */
  onJudged?: (index: number, verdict: PairwiseVerdict) => void;
}

export interface PairwiseJudge {
  /** stable id for caches and results: kind, model, prompt version */
  readonly id: string;
  /** 5: A>>B..B>>A; 3: A>B, A=B, B>A */
  readonly levels: VerdictLevels;
  /**
   * True when the judge itself stores every judgment on disk before returning it (a chat judge whose client
   * has a cacheDir); otherwise the arena wraps it with withJudgmentCache.
   */
  readonly cachesJudgments: boolean;
  /** One verdict per item, in order. Implementations choose their own batching and concurrency. */
  judge(items: readonly PairwiseItem[], options?: PairwiseJudgeOptions): Promise<PairwiseVerdict[]>;
}

export interface ChatPairwiseJudgeOptions {
  /** default 5 */
  levels?: VerdictLevels;
  /** user template (placeholders PAIRWISE_FIELDS); default: ours */
  template?: PromptTemplate;
  /** system message; null for none; default ours with our template, none with a user template */
  system?: string | null;
  /** `system` is the user's own (with the built-in template): the id gets its hash, as results name the judge by it */
  userSystem?: boolean;
  /** asks per verdict, the first included (default 3) */
  maxAttempts?: number;
  temperature?: number;
  maxTokens?: number;
}

export class ChatPairwiseJudge implements PairwiseJudge {
  readonly id: string;
  readonly levels: VerdictLevels;
  readonly cachesJudgments: boolean;
  private readonly template: PromptTemplate;
  private readonly system: string | null;
  private readonly maxAttempts: number;
  private readonly temperature: number;
  private readonly maxTokens: number;

  constructor(
    private readonly client: LlmClient,
    options: ChatPairwiseJudgeOptions = {},
  ) {
    this.levels = options.levels ?? 5;
    if (this.levels !== 3 && this.levels !== 5) throw new Error(`pairwise judge levels must be 3 or 5, got ${String(this.levels)}`);
    this.template =
      options.template ?? new PromptTemplate(DEFAULT_PAIRWISE_TEMPLATE, 'built-in referee', PAIRWISE_FIELDS, ['answer_a', 'answer_b']);
    this.system = options.system !== undefined ? options.system : options.template ? null : DEFAULT_PAIRWISE_SYSTEM;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.temperature = options.temperature ?? 0;
    this.maxTokens = options.maxTokens ?? 2048;
    this.cachesJudgments = client.config.cacheDir !== undefined;
    this.id = `chat-pairwise:${client.model}@${promptVersion(options, this.template.text, this.system, PAIRWISE_PROMPT_VERSION)}/${this.levels}`;
  }

  messages(item: PairwiseItem): { role: 'system' | 'user'; content: string }[] {
    const user = this.template.render({
      query: item.prompt,
      answer_a: item.a,
      answer_b: item.b,
      labels: verdictLabelList(this.levels).join(', '),
    });
    return [...(this.system === null ? [] : [{ role: 'system' as const, content: this.system }]), { role: 'user' as const, content: user }];
  }

  judge(items: readonly PairwiseItem[], options: PairwiseJudgeOptions = {}): Promise<PairwiseVerdict[]> {
    const ending = `one of ${verdictLabelList(this.levels).join(', ')}`;
    return settleAll(
      items,
      async (item, i, signal) => {
        const res = await askOrGiveUp(
          this.client,
          { messages: this.messages(item), temperature: this.temperature, maxTokens: this.maxTokens },
          verdictReply(this.levels),
          { maxAttempts: this.maxAttempts, signal, revise: followUp(ending) },
        );
        const verdict: PairwiseVerdict = {
          label: res.ok ? res.value : null,
          reason: res.ok ? res.reply : `no usable verdict (${res.reason}); last reply: ${res.reply}`,
          asks: res.asks,
          cached: res.cached,
        };
        options.onJudged?.(i, verdict);
        return verdict;
      },
      { signal: options.signal, describe: (item) => `judging two answers to ${excerpt(item.prompt)}` },
    );
  }
}
