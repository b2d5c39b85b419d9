// Self-contained HTML run reports: inline CSS and SVG, every piece of text escaped (model output is
// untrusted). One page: a title, key numbers, charts, then free-text sections such as generated samples.
import { escapeXml } from './svg-chart';

export interface ReportSection {
  heading: string;
  /** already-safe HTML (charts) */
  html?: string;
  /** untrusted text: escaped and shown preformatted */
  text?: string;
}

export function renderReport(title: string, facts: Record<string, string | number>, sections: readonly ReportSection[]): string {
  const rows = Object.entries(facts)
    .map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(String(v))}</td></tr>`)
    .join('');
  const body = sections
    .map(
      (s) =>
        `<section><h2>${escapeXml(s.heading)}</h2>${s.html ?? ''}${s.text !== undefined ? `<pre>${escapeXml(s.text)}</pre>` : ''}</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse}th,td{border-bottom:1px solid #eee;padding:3px 10px;text-align:left}
section{margin:1.5em 0}pre{white-space:pre-wrap;background:#f7f7f7;padding:.8em;border-radius:4px}
svg{margin:0 1em 1em 0;border:1px solid #eee}</style></head>
<body><h1>${escapeXml(title)}</h1><table>${rows}</table>
${body}
</body></html>
`;
}
