// The chat criteria judge as the quality reward's scorer (@lwz/rewards QualityScorer): each answer graded
// 1-10 against our quality rubric (prompts.ts), mapped to [0, 1] as (s - 1) / 9. Registered as the
// quality scorer "chat-judge", so a rewards config `quality: {scorer: "chat-judge", options: {baseUrls,
// model, apiKeyEnv, cacheDir, ...}}` uses it. The judged text is the <answer> block, or the whole completion
// when there is none (the format reward already punishes that). Not the reward-model scorers.
import { LlmClient, LlmClientConfigSchema, parseLlmClientConfig } from '@lwz/llm-client';
import { registerQualityScorer, type QualityItem, type QualityScore, type QualityScorer } from '@lwz/rewards';
import { UserError } from '@lwz/core';
import { ChatCriteriaJudge } from './chat-criteria-judge';
import { QUALITY_RUBRIC } from './prompts';
import { CRITERIA_FIELDS } from './prompts';
import { loadPromptTemplate } from './template';

export const QUALITY_RUBRIC_VERSION = 'quality-1';

export class ChatQualityScorer implements QualityScorer {
  readonly id: string;

  constructor(private readonly judge: ChatCriteriaJudge) {
    this.id = `judge:${judge.id}#${QUALITY_RUBRIC_VERSION}`;
  }

  async score(items: readonly QualityItem[], options: { signal?: AbortSignal } = {}): Promise<QualityScore[]> {
    const [lo, hi] = this.judge.range;
    const judged = await this.judge.judgeAll(
      items.map((it) => ({ query: it.prompt, response: it.answer ?? it.response, criterion: QUALITY_RUBRIC })),
      options,
    );
    // no usable score after every ask: the middle of the scale, so the sample neither gains nor loses much
    return judged.map((j) =>
      j.score === null
        ? { score: 0.5, reason: j.reason, fallback: true }
        : { score: (j.score - lo) / (hi - lo), raw: j.score, reason: j.reason },
    );
  }
}

const OWN_OPTIONS = ['maxAttempts', 'templateFile'] as const;

/** `quality.options`: the LlmClient config fields, plus `maxAttempts` and `templateFile` (a criteria template). */
export function createChatQualityScorer(options: Record<string, unknown>): ChatQualityScorer {
  const known = [...Object.keys(LlmClientConfigSchema.shape), ...OWN_OPTIONS];
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length)
    throw new UserError(`quality.options for "chat-judge": unknown field(s) ${unknown.join(', ')} (valid: ${known.join(', ')})`);
  const { maxAttempts, templateFile, ...clientOptions } = options;
  if (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && (maxAttempts as number) >= 1)) {
    throw new UserError(`quality.options.maxAttempts must be a positive integer, got ${JSON.stringify(maxAttempts)}`);
  }
  if (templateFile !== undefined && typeof templateFile !== 'string')
    throw new UserError('quality.options.templateFile must be a file path');
  const client = new LlmClient(parseLlmClientConfig({ id: 'quality-judge', ...clientOptions }, 'quality.options'));
  const template = templateFile === undefined ? undefined : loadPromptTemplate(templateFile, CRITERIA_FIELDS, ['response']);
  return new ChatQualityScorer(new ChatCriteriaJudge(client, { range: [1, 10], template, maxAttempts: maxAttempts as number | undefined }));
}

registerQualityScorer('chat-judge', createChatQualityScorer);
