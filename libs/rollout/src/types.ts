// The rollout interface the trainer, the `sample` command and evaluation program against: a backend turns
// prompts into n answers each, with token ids, per-token log-probs and finish reasons. LocalRollout runs our
// engine in-process; RemoteRollout sends the same requests to OpenAI-compatible servers.
import type { GenerationConfigInput } from './generation-config';
import type { TokenLogprob } from './sampler';
import type { FinishReason } from './stopping';

/**
 * A prompt as token ids (exact: what the trainer scores) or as text (encoded as is, no BOS added).
 * `index` keys the prompt's random streams (default: its position in the list): keep it stable to reproduce
 * answers across runs. `samples` picks which of the n answers to produce (default all; a resumed run asks
 * for the missing ones).
 */
export type RolloutPrompt = ({ ids: readonly number[] } | { text: string }) & { index?: number; samples?: readonly number[] };

/**
 * One of a token's top alternatives. A server that prints an alternative as text rather than "token_id:N"
 * gives no id: `id` is then -1 (never a vocabulary id) and `token` holds the text as the server printed it.
 */
export interface TopLogprob extends TokenLogprob {
  token?: string;
}

export interface Completion {
  promptIndex: number;
  sampleIndex: number;
  /** prompt length in tokens */
  promptTokens: number;
  /** the generated ids, the one that ended the answer (end-of-sequence, stop token) included */
  tokenIds: number[];
  /** log p(tokenIds[t] | prompt, tokenIds[<t]) under the policy's raw distribution (temperature 1, no filters) */
  logprobs: number[];
  /** per token, the most likely alternatives with their raw log-probs (only when topLogprobs > 0) */
  topLogprobs?: TopLogprob[][];
  /** decoded answer, cut at the stop string (which is kept unless includeStopString is false) */
  text: string;
  finishReason: FinishReason;
  /** the stop string or stop token id that ended it (absent for `length`) */
  stop?: string | number;
}

export interface GenerateOptions {
  /** progress line label on stderr (core's Progress); none when absent */
  progress?: string;
  /** called as each answer finishes (answers finish out of order): write it out before the rest are done */
  onCompletion?: (c: Completion) => void;
}

export interface RolloutBackend {
  /** n answers per prompt: result[p][j] is answer j of prompt p (or the j-th of `samples` when given). */
  generate(prompts: readonly RolloutPrompt[], config?: GenerationConfigInput, opts?: GenerateOptions): Promise<Completion[][]>;
  close(): Promise<void>;
}
