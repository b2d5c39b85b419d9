// A self-contained HTML report page: inline CSS, inline SVG charts, no scripts and no external assets, so it
// opens offline and model text cannot run. One page: a title, key numbers, then sections, each either
// open or collapsed (`<details>`). Section `html` must come from this library's builders (already
// escaped); `text` is untrusted and shown escaped and preformatted.
import { escapeHtml } from './escape';
import { factsTable, type Cell } from './table';

export interface ReportSection {
  heading: string;
  /** HTML built by this library (charts, tables, details) */
  html?: string;
  /** untrusted text: escaped and shown preformatted */
  text?: string;
  /** render folded (a `<details>` the reader opens) */
  collapsed?: boolean;
}

/** A collapsible block: `summary` is text (escaped), `html` comes from this library's builders. */
export function details(summary: string, html: string, opts: { open?: boolean } = {}): string {
  return `<details${opts.open ? ' open' : ''}><summary>${escapeHtml(summary)}</summary>${html}</details>`;
}

/** Untrusted text, escaped, in a <pre>. */
export function preformatted(text: string): string {
  return `<pre>${escapeHtml(text)}</pre>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}th,td{border-bottom:1px solid #eee;padding:3px 10px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:bold;padding:4px 0}
section{margin:1.5em 0}pre{white-space:pre-wrap;background:#f7f7f7;padding:.8em;border-radius:4px}
h1,h2,caption,td,pre,summary{overflow-wrap:anywhere}td,pre{unicode-bidi:isolate}
details{margin:.5em 0}summary{cursor:pointer}summary h2{display:inline}
svg{margin:0 1em 1em 0;border:1px solid #eee;max-width:100%;height:auto}`;

function section(s: ReportSection): string {
  const inner = `${s.html ?? ''}${s.text !== undefined ? preformatted(s.text) : ''}`;
  const heading = `<h2>${escapeHtml(s.heading)}</h2>`;
  return s.collapsed
    ? `<section><details><summary>${heading}</summary>${inner}</details></section>`
    : `<section>${heading}${inner}</section>`;
}

export function renderReport(title: string, facts: Readonly<Record<string, Cell>>, sections: readonly ReportSection[]): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${t}</title>
<style>${STYLE}</style></head>
<body><h1>${t}</h1>${factsTable(facts)}
${sections.map(section).join('\n')}
</body></html>
`;
}
