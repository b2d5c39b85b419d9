// The arena's report.md and report.html: the leaderboard with 95 % intervals (and the length-controlled
// ratings when fitted), the win-rate heatmap, rating against mean answer length, required against actual
// length, and a drill-down per prompt with every player's answer side by side and each verdict with the
// judge's reason. All model, prompt and judge text is escaped by @lwz/report or common.ts.
import {
  barChart,
  details,
  escapeHtml,
  formatValue,
  heatmap,
  htmlTable,
  markdownTable,
  PALETTE,
  preformatted,
  renderReport,
  scatterPlot,
} from '@lwz/report';
import type { ArenaPlayer, ArenaResult } from '../arena';
import { clip, markdownPage, preview, sideBySide, span } from './common';

export interface ReportOptions {
  /** characters of each answer shown in the drill-down (default 6000) */
  maxAnswerChars?: number;
  /** characters of each judge reason (default 1500) */
  maxReasonChars?: number;
}

const labelText = (label: string | null) => (label === null ? 'no usable verdict' : `[[${label}]]`);

function leaderboard(r: ArenaResult) {
  const lc = r.players.some((p) => p.lengthControlled);
  const columns = [
    '#',
    'player',
    'kind',
    'rating',
    '95 % CI',
    ...(lc ? ['length-controlled', 'LC 95 % CI'] : []),
    'mean words',
    'battles',
    'W / T / L',
    'win rate',
  ];
  const rows = r.players.map((p, i) => [
    i + 1,
    p.name,
    p.kind,
    Math.round(p.rating),
    span(Math.round(p.low), Math.round(p.high)),
    ...(lc && p.lengthControlled
      ? [Math.round(p.lengthControlled.rating), span(Math.round(p.lengthControlled.low), Math.round(p.lengthControlled.high))]
      : lc
        ? ['', '']
        : []),
    Math.round(p.avgWords),
    p.battles,
    `${p.wins} / ${p.ties} / ${p.losses}`,
    p.winRate,
  ]);
  return { columns, rows };
}

function facts(r: ArenaResult): Record<string, string | number> {
  return {
    judge: r.judge,
    verdict: `${r.levels}-level`,
    pairing: r.pairing,
    prompts: r.prompts.length,
    judgments: r.judgments.length,
    anchor: r.anchor ?? 'mean = 1000',
    bootstrap: `${r.resamples} resamples over prompts, seed ${r.seed}`,
    ...(r.strongWeight !== 1 ? { 'strong verdict weight': r.strongWeight } : {}),
    ...(r.lengthCoefficient
      ? {
          'length coefficient (Elo per unit of relative length difference)': `${formatValue(r.lengthCoefficient.rating)} ${span(r.lengthCoefficient.low, r.lengthCoefficient.high)}`,
        }
      : {}),
    ...(r.invalid ? { 'judgments without a usable verdict (left out)': r.invalid } : {}),
    ...(r.emptyDecided ? { 'judgments decided without the judge (an answer was empty: the other wins)': r.emptyDecided } : {}),
    ...(r.converged ? {} : { warning: 'a Bradley-Terry fit did not converge' }),
  };
}

function winRateTable(r: ArenaResult) {
  const names = r.winRates.players;
  return {
    columns: ['row beats column', ...names],
    rows: names.map((n, i) => [n, ...r.winRates.values[i].map((v) => (v === null ? '' : v))]),
  };
}

export function arenaMarkdown(r: ArenaResult): string {
  return markdownPage('Arena', facts(r), [
    { heading: 'Leaderboard', body: markdownTable(leaderboard(r)) },
    { heading: 'Win rates (row beats column, both orders, ties count half)', body: markdownTable(winRateTable(r)) },
  ]);
}

function drillDown(r: ArenaResult, players: readonly ArenaPlayer[], o: Required<ReportOptions>): string {
  return r.prompts
    .map((p) => {
      const answers = players
        .filter((pl) => pl.answers.has(p.key))
        .map((pl) => {
          const a = pl.answers.get(p.key) as { text: string; words: number };
          return { title: pl.name, note: `${a.words} words${pl.kind === 'baseline' ? ', baseline' : ''}`, text: a.text };
        });
      const verdicts = r.judgments.filter((j) => j.promptId === p.id);
      const reasons = verdicts
        .map((j) => details(`${j.a} (A) vs ${j.b} (B): ${labelText(j.label)}`, preformatted(clip(j.reason, o.maxReasonChars))))
        .join('');
      const summary = `${p.id}: ${preview(p.prompt)}${p.required !== undefined ? ` (asks ~${Math.round(p.required)} words)` : ''}`;
      const table = htmlTable({
        columns: ['A (shown first)', 'B', 'verdict', 'A scores'],
        rows: verdicts.map((j) => [j.a, j.b, labelText(j.label), j.scoreA]),
      });
      return details(summary, `${preformatted(p.prompt)}${sideBySide(answers, o.maxAnswerChars)}${table}${reasons}`);
    })
    .join('\n');
}

export function arenaHtml(r: ArenaResult, players: readonly ArenaPlayer[], options: ReportOptions = {}): string {
  const o = { maxAnswerChars: 6000, maxReasonChars: 1500, ...options };
  const board = leaderboard(r);
  // one colour per player in every chart (by leaderboard place): the length chart lists players in input order
  const colorOf = new Map(r.players.map((p, i) => [p.name, PALETTE[i % PALETTE.length]]));
  const bars = barChart({
    title: 'Rating with 95 % bootstrap interval',
    yLabel: 'Elo',
    bars: r.players.map((p) => ({ label: p.name, value: p.rating, low: p.low, high: p.high, color: colorOf.get(p.name) })),
    width: Math.max(560, 90 * r.players.length),
  });
  const names = r.winRates.players;
  const heat = heatmap({
    title: 'Win rate: row beats column',
    rowLabels: names,
    colLabels: names,
    values: r.winRates.values,
    min: 0,
    max: 1,
    center: 0.5,
    format: (v) => v.toFixed(2),
  });
  const ratingVsLength = scatterPlot({
    title: 'Rating against mean answer length',
    xLabel: 'mean words per answer',
    yLabel: 'Elo',
    series: r.players.map((p) => ({ label: p.name, color: colorOf.get(p.name), points: [{ x: p.avgWords, y: p.rating, label: p.name }] })),
  });
  const withRequired = r.prompts.filter((p) => p.required !== undefined);
  const lengths = scatterPlot({
    title: 'Required against actual length',
    xLabel: 'words asked for',
    yLabel: 'words written',
    diagonal: true,
    series: players.map((pl) => ({
      label: pl.name,
      color: colorOf.get(pl.name),
      points: withRequired
        .filter((p) => pl.answers.has(p.key))
        .map((p) => ({ x: p.required as number, y: (pl.answers.get(p.key) as { words: number }).words, label: p.id })),
    })),
  });
  return renderReport('Arena', facts(r), [
    { heading: 'Leaderboard', html: htmlTable(board) + bars },
    { heading: 'Win rates', html: heat + htmlTable(winRateTable(r)) },
    {
      heading: 'Length',
      html: ratingVsLength + (withRequired.length ? lengths : `<p>${escapeHtml('No prompt states a required length.')}</p>`),
    },
    { heading: `Per prompt (${r.prompts.length})`, html: drillDown(r, players, o), collapsed: false },
  ]);
}
