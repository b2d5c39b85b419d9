// Pieces the three evaluation reports share: answers shown side by side (each escaped, in a <pre>, cut to a
// readable length with a note saying how much was left out), short one-line previews of untrusted text,
// and the Markdown page frame. Charts and tables come from @lwz/report; everything here escapes.
import { escapeHtml, formatValue, markdownText, preformatted } from '@lwz/report';

/** Text cut to `max` characters, with a note of what was left out. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (${text.length - max} more characters in the input file)`;
}

/** One line, at most `max` characters, for summaries and table cells. */
export function preview(text: string, max = 90): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

export interface Column {
  title: string;
  /** a line under the title, e.g. "812 words" */
  note?: string;
  text: string;
}

/** Columns side by side (wrapping on narrow screens), each an escaped, clipped <pre>. */
export function sideBySide(columns: readonly Column[], maxChars: number): string {
  const cells = columns
    .map(
      (c) =>
        `<div style="min-width:0"><h4 style="margin:.3em 0">${escapeHtml(c.title)}</h4>` +
        (c.note !== undefined ? `<div style="color:#666;font-size:90%">${escapeHtml(c.note)}</div>` : '') +
        `${preformatted(clip(c.text, maxChars))}</div>`,
    )
    .join('');
  return `<div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px">${cells}</div>`;
}

/** "[low, high]" of an interval. */
/** The first ten ids of a list, then ', ...' when there are more: for a one-line fact or note. */
export const idList = (ids: readonly string[]): string => `${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', ...' : ''}`;

export const span = (low: number, high: number): string => `[${formatValue(low)}, ${formatValue(high)}]`;

/** A Markdown page: a title, a bullet list of facts, then sections (already Markdown). */
export function markdownPage(
  title: string,
  facts: Readonly<Record<string, string | number>>,
  sections: readonly { heading: string; body: string }[],
): string {
  const lines = [
    `# ${markdownText(title)}`,
    '',
    ...Object.entries(facts).map(([k, v]) => `- ${markdownText(k)}: ${markdownText(typeof v === 'number' ? formatValue(v) : v)}`),
    '',
  ];
  for (const s of sections) lines.push(`## ${markdownText(s.heading)}`, '', s.body.trimEnd(), '');
  return lines.join('\n');
}
