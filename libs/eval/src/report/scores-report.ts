// report.md and report.html for the two criteria benchmarks. WritingBench: overall and R/C with intervals,
// domain scores as bars with intervals, score against answer length, required against actual length, and
// a drill-down per query (the answer beside its criterion scores and reasons). LongBench-Write: S_l, S_q
// and overall, per-bucket bars, required against actual length, scores against length, and a drill-down
// per answer. All model, prompt and judge text is escaped.
import {
  barChart,
  details,
  formatValue,
  htmlTable,
  markdownTable,
  markdownText,
  preformatted,
  renderReport,
  scatterPlot,
} from '@lwz/report';
import type { WritingBenchResult } from '../writingbench';
import type { LongBenchResult } from '../longbench-write';
import { describeTextSources } from '../responses';
import { clip, idList, markdownPage, preview, sideBySide, span } from './common';

const MAX_CHARS = 8000;

function wbFacts(r: WritingBenchResult): Record<string, string | number> {
  return {
    judge: r.judge,
    'score range': `${r.range[0]}-${r.range[1]}`,
    queries: `${r.judged} judged of ${r.queries}${r.missing.length ? ` (${r.missing.length} without a response)` : ''}`,
    'judged text': describeTextSources(r.judgedText),
    overall: `${formatValue(r.overall)} ${span(r.overallLow, r.overallHigh)}`,
    ...(r.empty.length
      ? { 'empty responses (not sent to the judge; each criterion scored the minimum)': `${r.empty.length}: ${idList(r.empty)}` }
      : {}),
    ...(r.invalid ? { 'criteria without a usable score (left out)': r.invalid } : {}),
    ...(r.requirement ? { 'R (all criteria)': r.requirement.R, 'C (requirement-specific criteria)': r.requirement.C } : {}),
  };
}

// a group the judge scored none of keeps its row: '-' for its score, its answered queries counted as unscored
const groupTable = (groups: WritingBenchResult['domain1'], title: string) => ({
  columns: [title, 'score', '95 % CI', 'queries', 'unscored'],
  rows: groups.map((g) => [
    g.name,
    g.score ?? '-',
    g.score === undefined ? '-' : span(g.low as number, g.high as number),
    g.queries,
    g.unscored ?? 0,
  ]),
});

export function writingBenchMarkdown(r: WritingBenchResult): string {
  return markdownPage('WritingBench', wbFacts(r), [
    { heading: 'Domains', body: markdownTable(groupTable(r.domain1, 'domain')) },
    { heading: 'Subdomains', body: markdownTable(groupTable(r.domain2, 'subdomain')) },
    ...(r.missing.length
      ? [{ heading: 'Queries without a response', body: r.missing.map((id) => `- ${markdownText(id)}`).join('\n') }]
      : []),
    ...(r.empty.length
      ? [
          {
            heading: `Empty responses: not sent to the judge, every criterion scored ${r.range[0]}`,
            body: r.empty.map((id) => `- ${markdownText(id)}`).join('\n'),
          },
        ]
      : []),
  ]);
}

export function writingBenchHtml(r: WritingBenchResult): string {
  const bars = barChart({
    title: 'Score by domain (95 % interval)',
    yLabel: `mean criterion score (${r.range[0]}-${r.range[1]})`,
    bars: r.domain1.flatMap((d) => (d.score === undefined ? [] : [{ label: d.name, value: d.score, low: d.low, high: d.high }])),
    width: Math.max(560, 110 * r.domain1.length),
  });
  const byLength = scatterPlot({
    title: 'Query score against answer length',
    xLabel: 'words',
    yLabel: 'score',
    series: [{ label: 'queries', points: r.perQuery.map((q) => ({ x: q.words, y: q.score, label: q.id })) }],
  });
  const required = r.perQuery.filter((q) => q.required !== undefined);
  const lengths = scatterPlot({
    title: 'Required against actual length (queries that state one)',
    xLabel: 'words asked for',
    yLabel: 'words written',
    diagonal: true,
    series: [{ label: 'queries', points: required.map((q) => ({ x: q.required as number, y: q.words, label: q.id })) }],
  });
  const drill = r.perQuery
    .map((q) => {
      const table = htmlTable({
        columns: ['criterion', 'score', 'requirement-specific', 'reason'],
        rows: q.criteria.map((c) => [c.name, c.score ?? 'none', c.specific ? 'yes' : '', c.reason]),
      });
      const body = sideBySide(
        [
          { title: 'query', text: q.query },
          { title: 'response', note: `${q.words} words`, text: q.response },
        ],
        MAX_CHARS,
      );
      return details(`${q.id} [${q.domain1} / ${q.domain2}] ${formatValue(q.score)}: ${preview(q.query)}`, body + table);
    })
    .join('\n');
  return renderReport('WritingBench', wbFacts(r), [
    {
      heading: 'Domains',
      html: bars + htmlTable(groupTable(r.domain1, 'domain')) + details('Subdomains', htmlTable(groupTable(r.domain2, 'subdomain'))),
    },
    { heading: 'Length', html: byLength + lengths },
    { heading: `Per query (${r.perQuery.length})`, html: drill },
  ]);
}

function lbFacts(r: LongBenchResult): Record<string, string | number> {
  const unanswered = r.unanswered?.length ?? 0;
  return {
    answers: unanswered ? `${r.answers} of ${r.answers + unanswered} prompts (${unanswered} without a response, not scored)` : r.answers,
    ...(r.judgedText ? { 'judged text (and counted)': describeTextSources(r.judgedText) } : {}),
    S_l: `${formatValue(r.S_l)} ${span(r.S_lLow, r.S_lHigh)}`,
    ...(r.S_q !== undefined
      ? {
          S_q: `${formatValue(r.S_q)} ${span(r.S_qLow as number, r.S_qHigh as number)}${r.S_qAnswers !== undefined && r.S_qAnswers < r.answers ? ` over the ${r.S_qAnswers} answers the judge scored` : ''}`,
          overall: r.overall as number,
        }
      : {}),
    ...(r.judge ? { judge: r.judge } : { judge: 'none (S_l only)' }),
    ...(r.invalid ? { 'dimension scores without a usable reply (left out)': r.invalid } : {}),
  };
}

const bucketTable = (r: LongBenchResult) => ({
  columns: ['required words', 'answers', 'S_l', ...(r.S_q !== undefined ? ['S_q'] : [])],
  // an empty bucket has no score: '-' rather than NaN
  rows: r.buckets.map((b) => [
    b.label,
    b.answers,
    b.answers ? b.S_l : '-',
    ...(r.S_q !== undefined ? [b.answers ? (b.S_q ?? '-') : '-'] : []),
  ]),
});

export function longBenchMarkdown(r: LongBenchResult): string {
  return markdownPage('LongBench-Write', lbFacts(r), [
    { heading: 'By required length', body: markdownTable(bucketTable(r)) },
    ...(r.unanswered?.length
      ? [{ heading: 'Prompts without a response', body: r.unanswered.map((id) => `- ${markdownText(id)}`).join('\n') }]
      : []),
  ]);
}

export function longBenchHtml(r: LongBenchResult): string {
  const bars = barChart({
    title: 'S_l by required length',
    yLabel: 'S_l',
    bars: r.buckets.filter((b) => b.answers > 0).map((b) => ({ label: b.label, value: b.S_l })),
  });
  const lengths = scatterPlot({
    title: 'Required against actual length',
    xLabel: 'words asked for',
    yLabel: 'words written',
    diagonal: true,
    series: [{ label: 'answers', points: r.perAnswer.map((a) => ({ x: a.required, y: a.words, label: a.id })) }],
  });
  const scores = scatterPlot({
    title: 'Scores against answer length',
    xLabel: 'words written',
    yLabel: 'score (0-100)',
    series: [
      { label: 'S_l', points: r.perAnswer.map((a) => ({ x: a.words, y: a.S_l, label: a.id })) },
      ...(r.S_q !== undefined ? [{ label: 'S_q', points: r.perAnswer.map((a) => ({ x: a.words, y: a.S_q as number, label: a.id })) }] : []),
    ],
  });
  const drill = r.perAnswer
    .map((a) => {
      const head = `${a.id}${a.type ? ` [${a.type}]` : ''}: ${a.words} of ${a.required} words, S_l ${formatValue(a.S_l)}${a.S_q !== undefined ? `, S_q ${formatValue(a.S_q)}` : ''}: ${preview(a.prompt)}`;
      const dims = a.dimensions
        ? htmlTable({
            columns: ['dimension', 'score (1-5)', 'reason'],
            rows: a.dimensions.map((d) => [d.name, d.score ?? 'none', d.reason]),
          })
        : '';
      return details(
        head,
        preformatted(clip(a.prompt, MAX_CHARS)) +
          sideBySide([{ title: 'answer', note: `${a.words} words`, text: a.text }], MAX_CHARS) +
          dims,
      );
    })
    .join('\n');
  return renderReport('LongBench-Write', lbFacts(r), [
    { heading: 'By required length', html: bars + htmlTable(bucketTable(r)) },
    { heading: 'Length', html: lengths + scores },
    { heading: `Per answer (${r.perAnswer.length})`, html: drill },
  ]);
}
