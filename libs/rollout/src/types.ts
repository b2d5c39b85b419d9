// The rollout interface the trainer, the `sample` command and evaluation program against: a backend turns
// prompts into n answers each, with token ids, per-token log-probs and finish reasons. LocalRollout runs our
// engine in-process; RemoteRollout sends the same requests to OpenAI-compatible servers.
import type { GenerationConfigInput } from './generation-config';
import type { TokenLogprob } from './sampler';
import type { FinishReason } from './stopping';

/** A prompt as token ids (exact: what the trainer scores) or as text (encoded as is, no BOS added). */
export type RolloutPrompt = { ids: readonly number[] } | { text: string };

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
  topLogprobs?: TokenLogprob[][];
  /** decoded answer, cut at the stop string (which is kept unless includeStopString is false) */
  text: string;
  finishReason: FinishReason;
  /** the stop string or stop token id that ended it (absent for `length`) */
  stop?: string | number;
}

export interface GenerateOptions {
  /** progress line label on stderr (core's Progress); none when absent */
  progress?: string;
}

export interface RolloutBackend {
  /** n answers per prompt: result[p][j] is answer j of prompt p. */
  generate(prompts: readonly RolloutPrompt[], config?: GenerationConfigInput, opts?: GenerateOptions): Promise<Completion[][]>;
  close(): Promise<void>;
}
