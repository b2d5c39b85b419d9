// Validated answers for judges and predictors: ask, check the reply with a validator (a JSON verdict, a
// label such as [[A>B]]), and ask again when it is rejected, up to maxAttempts; every attempt is recorded. The
// validator reads the answer after a reasoning model's </think>; a reply cut off at its token limit is rejected.
// Each re-ask is its own cache entry (the attempt number is part of the key), so a rerun replays the same
// attempts from disk and makes no call. Prompt wording belongs to the judges, not here.
import { redactSecrets, replyAnswer } from '@lwz/core';
import { LlmError, excerpt } from './errors';
import type { ChatRequest, ChatResult } from './requests';

/** A validator's answer: the parsed value, or why the reply is not acceptable. */
export type Validation<T> = { ok: true; value: T } | { ok: false; reason: string };
/** Checks a reply text; throwing counts as a rejection with the error's message as the reason. */
export type Validator<T> = (reply: string) => Validation<T>;

export interface AskAttempt {
  /** 0 for the first ask */
  attempt: number;
  reply: string;
  ok: boolean;
  reason?: string;
  /** served from the disk cache */
  cached: boolean;
}

export interface AskResult<T> {
  value: T;
  /** the accepted reply */
  reply: string;
  attempts: AskAttempt[];
}

export interface AskOptions {
  /** asks in all, the first included (default 3) */
  maxAttempts?: number;
  signal?: AbortSignal;
  /**
   * The request for the next ask, given the last one and its rejected attempt (e.g. add the reason as a
   * follow-up message). Default: the same request, with `seed + attempt` when it has a seed.
   */
  revise?: (request: ChatRequest, rejected: AskAttempt) => ChatRequest;
}

type Chat = (request: ChatRequest, options: { attempt: number; signal?: AbortSignal }) => Promise<ChatResult>;

function defaultRevise(first: ChatRequest, attempt: number): ChatRequest {
  return first.seed === undefined ? first : { ...first, seed: first.seed + attempt };
}

/**
 * A reply cut off at its token limit is refused whatever it holds (a half-finished deliberation can end on a
 * label it was about to reject); the validator sees the answer after the last `</think>` only (core's
 * replyAnswer), so a reasoning model's drafts are not read as its verdict.
 */
function check<T>(finishReason: string | null, reply: string, validate: Validator<T>): Validation<T> {
  if (finishReason === 'length') {
    return {
      ok: false,
      reason: 'the reply was cut off at its token limit (finish_reason "length"): answer more briefly, or raise the max tokens',
    };
  }
  const answer = replyAnswer(reply);
  return answer.ok ? validate(answer.text) : answer;
}

/** `secrets` are removed from the error message (the client passes its key). */
export async function askUntilValid<T>(
  chat: Chat,
  request: ChatRequest,
  validate: Validator<T>,
  options: AskOptions = {},
  secrets: readonly (string | undefined)[] = [],
): Promise<AskResult<T>> {
  const maxAttempts = options.maxAttempts ?? 3;
  if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1))
    throw new Error(`askUntilValid: maxAttempts must be a positive integer, got ${maxAttempts}`);
  const attempts: AskAttempt[] = [];
  let current = request;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (attempt > 0) {
      const rejected = attempts[attempts.length - 1];
      current = options.revise ? options.revise(current, rejected) : defaultRevise(request, attempt);
    }
    const result = await chat(current, { attempt, signal: options.signal });
    const reply = result.choices[0].content;
    let verdict: Validation<T>;
    try {
      verdict = check(result.choices[0].finishReason, reply, validate);
    } catch (e) {
      verdict = { ok: false, reason: e instanceof Error ? e.message : String(e) };
    }
    if (verdict.ok) {
      attempts.push({ attempt, reply, ok: true, cached: result.cached });
      return { value: verdict.value, reply, attempts };
    }
    attempts.push({ attempt, reply, ok: false, reason: verdict.reason, cached: result.cached });
  }
  const last = attempts[attempts.length - 1];
  throw new InvalidReplyError(
    `chat: no valid reply in ${maxAttempts} attempts; last reason: ${last.reason}; last reply: ${JSON.stringify(excerpt(last.reply, secrets))}`,
    attempts,
    secrets,
  );
}

/** Every ask was rejected; `asks` holds each reply and the reason it was rejected. */
export class InvalidReplyError extends LlmError {
  readonly asks: AskAttempt[];

  /** `secrets` are removed from the message and from the recorded replies and reasons. */
  constructor(message: string, asks: AskAttempt[], secrets: readonly (string | undefined)[] = []) {
    super(message, { endpoint: 'chat', kind: 'invalid-reply', attempts: asks.length }, secrets);
    this.name = 'InvalidReplyError';
    this.asks = asks.map((a) => ({
      ...a,
      reply: redactSecrets(a.reply, secrets),
      ...(a.reason === undefined ? {} : { reason: redactSecrets(a.reason, secrets) }),
    }));
  }
}
