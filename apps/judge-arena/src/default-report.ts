// The eval-default leaderboard: one row per model (RM-judged arena Elo with its 95 % interval, LongBench-Write
// S_l, format-valid share, mean answer words) as a fixed-width table for stdout, and the summary report.md /
// report.html that link to the full arena and per-model LongBench-Write reports beside them. The detailed
// pages come from @lwz/eval's writers; this file only adds the combined view. Model names are escaped.
import { barChart, escapeHtml, formatValue, htmlTable, markdownTable, markdownText, renderReport, type Cell } from '@lwz/report';

export interface LeaderboardRow {
  model: string;
  /** the held-out file the answers came from */
  file: string;
  elo: number;
  /** the 95 % interval; an end the data do not bound is -Infinity / Infinity (null in results.json, "inf" in the tables) */
  eloLow: number;
  eloHigh: number;
  S_l: number;
  S_lLow: number;
  S_lHigh: number;
  /** share of answers with a valid format, in [0, 1] */
  formatValid: number;
  /** mean words of the <answer> blocks */
  answerWords: number;
  answers: number;
}

export interface DefaultSummary {
  judge: string;
  anchor: string;
  prompts: number;
  resamples: number;
  notes: string[];
  /** best Elo first */
  leaderboard: LeaderboardRow[];
}

/** A rating or bound: an unbounded end of an interval (the player won or lost every battle in >= 2.5 % of resamples) reads inf. */
export const formatElo = (x: number): string => (Number.isFinite(x) ? String(Math.round(x)) : formatValue(x));
const fixed = (x: number, d: number) => x.toFixed(d);

/** Text cells per row, the stdout table's columns. */
function cells(r: LeaderboardRow): string[] {
  return [
    r.model,
    `${formatElo(r.elo)} [${formatElo(r.eloLow)}, ${formatElo(r.eloHigh)}]`,
    fixed(r.S_l, 1),
    `${fixed(100 * r.formatValid, 1)} %`,
    fixed(r.answerWords, 1),
  ];
}

const COLUMNS = ['model', 'Elo [95 % CI]', 'S_l', 'format valid', 'mean answer words'];

/** The leaderboard as aligned plain text (the model column left-aligned, numbers right-aligned). */
export function leaderboardText(rows: readonly LeaderboardRow[]): string {
  const table = [COLUMNS, ...rows.map(cells)];
  const widths = COLUMNS.map((_, c) => Math.max(...table.map((r) => r[c].length)));
  const line = (r: readonly string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [line(COLUMNS), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(cells(r)))].join('\n');
}

function tableRows(s: DefaultSummary): Cell[][] {
  return s.leaderboard.map((r) => [...cells(r), r.answers]);
}

function facts(s: DefaultSummary): Record<string, string | number> {
  return {
    judge: s.judge,
    'arena anchor (1000)': s.anchor,
    'held-out prompts judged': s.prompts,
    'bootstrap resamples': s.resamples,
  };
}

const LINKS = (s: DefaultSummary) => [
  ['arena: ratings, win rates, every judgment', 'arena/report.html'],
  ...s.leaderboard.map((r) => [`LongBench-Write S_l of ${r.model}`, `longbench-write/${r.model}/report.html`]),
];

export function defaultMarkdown(s: DefaultSummary): string {
  return [
    '# Embedded default: held-out evaluation',
    '',
    ...Object.entries(facts(s)).map(([k, v]) => `- ${markdownText(k)}: ${markdownText(String(v))}`),
    '',
    ...(s.notes.length ? ['## Notes', '', ...s.notes.map((n) => `- ${markdownText(n)}`), ''] : []),
    '## Leaderboard',
    '',
    markdownTable({ columns: [...COLUMNS, 'answers'], rows: tableRows(s) }).trimEnd(),
    '',
    '## Detailed reports',
    '',
    ...LINKS(s).map(([label, href]) => `- [${markdownText(label)}](${href.replace(/\.html$/, '.md')})`),
    '',
  ].join('\n');
}

export function defaultHtml(s: DefaultSummary): string {
  const bars = barChart({
    // relative to the anchor: bars from 0 to ~1000 would hide the differences
    title: `Arena Elo minus 1000 (RM judge, 95 % interval; ${s.anchor} = 0)`,
    yLabel: 'Elo - 1000',
    bars: s.leaderboard.map((r) => ({ label: r.model, value: r.elo - 1000, low: r.eloLow - 1000, high: r.eloHigh - 1000 })),
    width: Math.max(480, 120 * s.leaderboard.length),
  });
  const links = `<ul>${LINKS(s)
    .map(([label, href]) => `<li><a href="${escapeHtml(href)}">${escapeHtml(label)}</a></li>`)
    .join('')}</ul>`;
  return renderReport('Embedded default: held-out evaluation', facts(s), [
    // one item per note, before the numbers they qualify: joined into one fact they made a run-on paragraph
    ...(s.notes.length ? [{ heading: 'Notes', html: `<ul>${s.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` }] : []),
    { heading: 'Leaderboard', html: htmlTable({ columns: [...COLUMNS, 'answers'], rows: tableRows(s) }) + bars },
    { heading: 'Detailed reports', html: links },
  ]);
}
