// Tables: HTML (numbers right-aligned and formatted, every cell escaped) and Markdown (for report.md, cells
// escaped so a viewer that renders inline HTML shows model text as text, and `|` cannot break a row).
import { escapeHtml } from './escape';
import { formatValue } from './format';

export type Cell = string | number | boolean | null | undefined;

export interface TableOptions {
  columns: readonly string[];
  rows: readonly (readonly Cell[])[];
  caption?: string;
}

function cellText(v: Cell): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'number' ? formatValue(v) : String(v);
}

function checkWidths(o: TableOptions): void {
  o.rows.forEach((r, i) => {
    if (r.length !== o.columns.length) throw new Error(`table row ${i} has ${r.length} cells, the header ${o.columns.length}`);
  });
}

export function htmlTable(o: TableOptions): string {
  checkWidths(o);
  const head = o.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = o.rows
    .map((r) => `<tr>${r.map((v) => `<td${typeof v === 'number' ? ' class="num"' : ''}>${escapeHtml(cellText(v))}</td>`).join('')}</tr>`)
    .join('');
  const caption = o.caption !== undefined ? `<caption>${escapeHtml(o.caption)}</caption>` : '';
  return `<table>${caption}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Two columns, one row per key: the "key numbers" block at the top of a report. */
export function factsTable(facts: Readonly<Record<string, Cell>>): string {
  const rows = Object.entries(facts)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(cellText(v))}</td></tr>`)
    .join('');
  return `<table class="facts">${rows}</table>`;
}

/**
 * Untrusted text on one line of Markdown: markup escaped; a `]` that would close a link (`[x](javascript:...)`, a
 * `[x]: url` definition, `[x][y]`), backticks and backslashes backslash-escaped, so no link, code span or escape forms;
 * every line break folded to a space (a lone \r ends a line in CommonMark, U+2028 in marked).
 */
export const markdownText = (v: Cell): string =>
  escapeHtml(cellText(v))
    .replace(/[\\`]|\](?=[(:[])/g, '\\$&')
    .replace(/\r\n|[\r\n\u2028\u2029]/g, ' ');

/** A table cell: markdownText, and `|` as a character reference, so no cell ends early. */
const mdCell = (v: Cell): string => markdownText(v).replace(/\|/g, '&#124;');

export function markdownTable(o: TableOptions): string {
  checkWidths(o);
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(o.columns.map(mdCell)), line(o.columns.map(() => '---')), ...o.rows.map((r) => line(r.map(mdCell)))].join('\n') + '\n';
}
