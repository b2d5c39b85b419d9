// The pure half of an LLM length predictor: our own range-assessor prompt (chat messages asking for a target
// word range under the paper's rules) and the validation of its reply, so the HTTP predictor built on
// @lwz/llm-client only sends, retries on `ok: false` (feeding `error` back) and caches by
// LENGTH_ASSESSOR_VERSION + model + prompt. No network here.
import { findLastJsonObject, replyAnswer } from '@lwz/core';
import type { ChatMessage } from '@lwz/tokenizer';
import { type RangeRules, PAPER_RANGE_RULES, rangeRuleViolation } from './predictor';
import type { WordRange } from './range-rule';

/** Changes whenever the prompt text or the validation changes: part of every cache key. */
export const LENGTH_ASSESSOR_VERSION = 'lwz-length-assessor/1';

function systemText(r: RangeRules): string {
  return [
    'You estimate how long a good answer to a writing request should be.',
    'Count length in words: every Chinese character is one word, every English word is one word.',
    `Give a target range [lo, hi]: both numbers multiples of ${r.step}, hi at most ${r.maxHi}, and hi - lo at most ${r.maxWidth}.`,
    'If the request states a length, centre the range on it (about 10 % either side, or the stated bounds).',
    'If it states none, judge from the kind of text, its audience and how much it asks to cover: a slogan or a tweet',
    'is short, a letter or a short essay a few hundred words, a report or a story a few thousand, a novel the most.',
    `If the request cannot be fulfilled in writing (it asks for more than ${r.maxHi} words, for a non-text output, or`,
    'it is not a writing request at all), answer [0, 0].',
    'Reply with one JSON object and nothing else, for example {"range": [800, 1200]}.',
  ].join('\n');
}

/** The chat messages to send for one prompt (our own wording). */
export function buildLengthAssessorMessages(prompt: string, rules: RangeRules = PAPER_RANGE_RULES): ChatMessage[] {
  return [
    { role: 'system', content: systemText(rules) },
    { role: 'user', content: `Writing request:\n"""\n${prompt}\n"""\nReply with {"range": [lo, hi]} only.` },
  ];
}

export type AssessorVerdict = { ok: true; range: WordRange } | { ok: false; error: string };

/**
 * Validate an assessor reply: the last JSON object with a "range" key (after the last </think>, code fences or
 * prose; a reply cut off inside <think>, or whose last range object does not parse, is refused) must hold [lo, hi]
 * under the rules, or [0, 0]. `error` says what to fix, for a retry.
 */
export function parseLengthAssessorReply(reply: string, rules: RangeRules = PAPER_RANGE_RULES): AssessorVerdict {
  const answer = replyAnswer(reply);
  if (!answer.ok) return { ok: false, error: answer.reason };
  const found = findLastJsonObject(answer.text, 'range');
  if (found === undefined) return { ok: false, error: 'no JSON object with a "range" key; reply with {"range": [lo, hi]} only' };
  if (!found.ok) return { ok: false, error: found.reason };
  const { range } = found.value;
  const problem = rangeRuleViolation(range, rules);
  if (problem) return { ok: false, error: problem };
  return { ok: true, range: [(range as number[])[0], (range as number[])[1]] };
}
