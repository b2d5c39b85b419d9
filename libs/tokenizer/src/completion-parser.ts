// Split a completion into think / answer / trailing text and list structural violations: the think template
// wants exactly one <think>...</think> then exactly one <answer>...</answer>, the direct template one answer
// block and no think block. A trailing turn marker or end-of-text (a stop string) is not a violation.
// Each violation comes as a sentence (`violations`) and a stable code (`codes`, same order) for counting.
// Structure only: repetition and quality are for the rewards.
import { ANSWER_CLOSE, ANSWER_OPEN, END_OF_TEXT, THINK_CLOSE, THINK_OPEN, TURN_END } from './special-tokens';
import type { TemplateName } from './templates';

/** Stable names of the structural violations, in the order parseCompletion checks them. */
export const COMPLETION_VIOLATIONS = [
  'tag-count',
  'think-not-closed',
  'text-before',
  'answer-before-think-close',
  'text-between',
  'answer-not-closed',
  'answer-empty',
  'text-after',
] as const;
export type CompletionViolation = (typeof COMPLETION_VIOLATIONS)[number];

export interface ParsedCompletion {
  /** Text inside the think block (trimmed), or null when there is none. */
  think: string | null;
  /** Text inside the answer block (trimmed; up to the end when </answer> is missing), or null. */
  answer: string | null;
  /** Text after </answer>, stop markers removed. */
  trailing: string;
  violations: string[];
  /** One code per entry of `violations`, same order. */
  codes: CompletionViolation[];
  valid: boolean;
}

function count(text: string, tag: string): number {
  return text.split(tag).length - 1;
}

function stripStopMarkers(text: string): string {
  let t = text;
  for (let changed = true; changed; ) {
    const trimmed = t.trimEnd();
    changed = false;
    for (const marker of [TURN_END, END_OF_TEXT]) {
      if (trimmed.endsWith(marker)) {
        t = trimmed.slice(0, -marker.length);
        changed = true;
      }
    }
  }
  return t;
}

export function parseCompletion(completion: string, template: TemplateName): ParsedCompletion {
  const violations: string[] = [];
  const codes: CompletionViolation[] = [];
  const flag = (code: CompletionViolation, message: string) => {
    codes.push(code);
    violations.push(message);
  };
  const tags = [THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE];
  const wanted = template === 'think' ? [1, 1, 1, 1] : [0, 0, 1, 1];
  tags.forEach((tag, i) => {
    const n = count(completion, tag);
    if (n !== wanted[i]) flag('tag-count', `${tag} appears ${n} times, expected ${wanted[i]}`);
  });
  const thinkOpen = completion.indexOf(THINK_OPEN);
  const thinkClose = completion.indexOf(THINK_CLOSE);
  const answerOpen = completion.indexOf(ANSWER_OPEN);
  const answerClose = answerOpen < 0 ? -1 : completion.indexOf(ANSWER_CLOSE, answerOpen);
  let think: string | null = null;
  if (thinkOpen >= 0 && thinkClose > thinkOpen) think = completion.slice(thinkOpen + THINK_OPEN.length, thinkClose).trim();
  else if (thinkOpen >= 0 || thinkClose >= 0) flag('think-not-closed', `${THINK_OPEN} ... ${THINK_CLOSE} is not a closed block`);
  const firstTag = [thinkOpen, answerOpen].filter((i) => i >= 0).sort((a, b) => a - b)[0] ?? completion.length;
  if (completion.slice(0, firstTag).trim() !== '') flag('text-before', 'text before the first block');
  if (think !== null && answerOpen >= 0) {
    if (answerOpen < thinkClose) flag('answer-before-think-close', `${ANSWER_OPEN} comes before ${THINK_CLOSE}`);
    else if (completion.slice(thinkClose + THINK_CLOSE.length, answerOpen).trim() !== '') {
      flag('text-between', `text between ${THINK_CLOSE} and ${ANSWER_OPEN}`);
    }
  }
  let answer: string | null = null;
  let trailing = '';
  if (answerOpen >= 0) {
    const end = answerClose >= 0 ? answerClose : completion.length;
    answer = completion.slice(answerOpen + ANSWER_OPEN.length, end).trim();
    if (answerClose < 0) flag('answer-not-closed', `${ANSWER_OPEN} is not closed`);
    else trailing = stripStopMarkers(completion.slice(answerClose + ANSWER_CLOSE.length));
    // punctuation, emoji or invisible characters alone are nothing written (a Korean or Russian answer is something)
    if (!/[\p{L}\p{N}]/u.test(answer)) flag('answer-empty', 'the answer is empty (no letter or digit)');
  }
  if (trailing.trim() !== '') flag('text-after', `text after ${ANSWER_CLOSE}`);
  return { think, answer, trailing, violations, codes, valid: violations.length === 0 };
}
