// Pairwise verdict labels in the arena-hard style (`[[A>>B]]` ... `[[B>>A]]`, CONTRACTS.md's judge protocol):
// the parser takes the LAST label in a reply, so a judge that quotes the label list before deciding is
// read by its decision. A 3-level judge uses the middle three; a strong label from it counts as the
// plain one. Outcomes are A's score (1 win, 0.5 tie, 0 loss). Not the prompts (chat-pairwise-judge.ts).
import type { Validator } from '@lwz/llm-client';

export const VERDICT_LABELS = ['A>>B', 'A>B', 'A=B', 'B>A', 'B>>A'] as const;
export type VerdictLabel = (typeof VERDICT_LABELS)[number];
export type VerdictLevels = 3 | 5;

const BODY = String.raw`\s*(A\s*>>\s*B|A\s*>\s*B|A\s*=\s*B|B\s*>\s*A|B\s*>>\s*A)\s*`;
const LABEL = new RegExp(String.raw`\[\[${BODY}\]\]`, 'gi');
const SINGLE_LABEL = new RegExp(String.raw`(?<!\[)\[${BODY}\](?!\])`, 'gi');

/** Full-width brackets, signs and letters as ASCII (Chinese judges write ［［Ａ＞Ｂ］］). */
function asciiLabels(reply: string): string {
  return reply.replace(/[［］＞＜＝ＡＢａｂ]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/**
 * The last verdict label in `reply`, or null when there is none. Spaces inside the brackets, lower case and
 * full-width forms are read (`[[ a > b ]]`, `［［Ａ＞Ｂ］］`); a single-bracket label (`[A>B]`) only when the reply
 * has no double-bracket one, as Arena-Hard's own fallback does.
 */
export function lastVerdictLabel(reply: string): VerdictLabel | null {
  const text = asciiLabels(reply);
  for (const pattern of [LABEL, SINGLE_LABEL]) {
    let last: string | null = null;
    for (const m of text.matchAll(pattern)) last = m[1].replace(/\s+/g, '').toUpperCase();
    if (last !== null) return last as VerdictLabel;
  }
  return null;
}

/** Collapse strong labels for a 3-level judge: A>>B -> A>B, B>>A -> B>A. */
export function toLevels(label: VerdictLabel, levels: VerdictLevels): VerdictLabel {
  if (levels === 5) return label;
  return label === 'A>>B' ? 'A>B' : label === 'B>>A' ? 'B>A' : label;
}

/** A's score for a label: 1 when A is better, 0.5 for a tie, 0 when B is better. */
export function verdictScoreA(label: VerdictLabel): number {
  return label === 'A>>B' || label === 'A>B' ? 1 : label === 'A=B' ? 0.5 : 0;
}

/** True for A>>B and B>>A. */
export function isStrongVerdict(label: VerdictLabel): boolean {
  return label === 'A>>B' || label === 'B>>A';
}

/** The same verdict with A and B exchanged (the judgement of the swapped order, if the judge were consistent). */
export function swapVerdict(label: VerdictLabel): VerdictLabel {
  return VERDICT_LABELS[VERDICT_LABELS.length - 1 - VERDICT_LABELS.indexOf(label)];
}

/** The labels a judge with `levels` may give, as they appear in a prompt: `[[A>B]]`, ... */
export function verdictLabelList(levels: VerdictLevels): string[] {
  return (levels === 5 ? VERDICT_LABELS : VERDICT_LABELS.slice(1, 4)).map((l) => `[[${l}]]`);
}

/** askUntilValid validator: a reply is usable when it holds a label; the value is the last one. */
export function verdictReply(levels: VerdictLevels): Validator<VerdictLabel> {
  return (reply) => {
    const label = lastVerdictLabel(reply);
    if (label === null)
      return { ok: false, reason: `the reply has no verdict label; it must end with one of ${verdictLabelList(levels).join(', ')}` };
    return { ok: true, value: toLevels(label, levels) };
  };
}
