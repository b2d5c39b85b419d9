// The SVG charts, checked structurally (no snapshots): balanced markup with every text escaped, points
// placed where the axes say, empty and non-finite data skipped, and "no data" when nothing is left.
import { barChart } from './bar-chart';
import { escapeHtml } from './escape';
import { TITLE_CHAR_PX } from './frame';
import { heatmap } from './heatmap';
import { lineChart } from './line-chart';
import { scatterPlot } from './scatter-plot';
import { attrs, checkMarkup, count } from './testing/markup';

const EVIL = '<script>alert("x")</script> & \'q\'';
const ESCAPED = escapeHtml(EVIL);
const occurrences = (html: string, s: string) => html.split(s).length - 1;
const pathPoints = (d: string) => [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);

describe('escaping in every chart text slot', () => {
  const labels = { title: EVIL, xLabel: EVIL, yLabel: EVIL };
  const cases: [string, string, number][] = [
    // title twice (aria-label + text), x and y labels, the legend entry; the colour in stroke, dot and legend
    ['line', lineChart({ ...labels, series: [{ label: EVIL, points: [[1, 2]], color: EVIL }] }), 8],
    // title x2, axis labels, legend, the point's tooltip holds the label once
    ['scatter', scatterPlot({ ...labels, series: [{ label: EVIL, points: [{ x: 1, y: 2, label: EVIL }] }] }), 6],
    // title x2, axis labels, the bar's tooltip and its category label, its colour
    ['bar', barChart({ ...labels, bars: [{ label: EVIL, value: 3, color: EVIL }] }), 7],
    // title x2, axis labels, the row and column labels, the cell tooltip holds both
    ['heatmap', heatmap({ ...labels, rowLabels: [EVIL], colLabels: [EVIL], values: [[0.5]] }), 8],
  ];
  it.each(cases)('%s chart: no markup gets through, each slot shows the escaped text', (_name, svg, expected) => {
    checkMarkup(svg);
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('"x")');
    expect(occurrences(svg, ESCAPED)).toBe(expected);
  });

  it('a hostile colour cannot add attributes', () => {
    const svg = lineChart({ title: 't', series: [{ label: 'a', points: [[0, 0]], color: 'red" onload="alert(1)' }] });
    checkMarkup(svg);
    expect(svg).not.toMatch(/\sonload="/); // the quote was escaped: still one attribute value
  });
});

describe('lineChart', () => {
  it('draws one path per series with finite points and leaves empty/NaN series out of plot and legend', () => {
    const svg = lineChart({
      title: 'loss',
      xLabel: 'step',
      yLabel: 'nats',
      series: [
        {
          label: 'train',
          points: [
            [1, 3],
            [2, NaN],
            [3, 2],
            [Infinity, 1],
          ],
        },
        { label: 'empty', points: [] },
        { label: 'all-nan', points: [[1, NaN]] },
        { label: 'val', points: [[3, 2.2]], dashed: true },
      ],
    });
    checkMarkup(svg);
    expect(count(svg, 'path')).toBe(2);
    expect(svg).not.toContain('empty');
    expect(svg).not.toContain('all-nan');
    expect(count(svg, 'circle')).toBe(1); // the one-point series is a dot
    const [train] = attrs(svg, 'path', 'd');
    expect(pathPoints(train)).toHaveLength(2); // (2, NaN) and (inf, 1) dropped
    expect(attrs(svg, 'path', 'stroke-dasharray')).toHaveLength(1);
  });

  it('maps larger x to the right and larger y up, inside the view box', () => {
    const svg = lineChart({
      title: 't',
      series: [
        {
          label: 'a',
          points: [
            [0, 0],
            [10, 5],
            [20, 10],
          ],
        },
      ],
    });
    const pts = pathPoints(attrs(svg, 'path', 'd')[0]);
    const [W, H] = [Number(attrs(svg, 'svg', 'width')[0]), Number(attrs(svg, 'svg', 'height')[0])];
    for (const [x, y] of pts) {
      expect(x).toBeGreaterThan(0);
      expect(x).toBeLessThan(W);
      expect(y).toBeGreaterThan(0);
      expect(y).toBeLessThan(H);
    }
    expect(pts[1][0] - pts[0][0]).toBeCloseTo(pts[2][0] - pts[1][0], 1); // linear in x
    expect(pts[0][1]).toBeGreaterThan(pts[2][1]); // SVG y grows downwards
  });

  it('keeps the legend above the plot, wrapping its labels into rows inside the chart, so no label covers a curve', () => {
    const labels = ['format valid', 'repetition (dup 4-grams)', 'truncated', 'in target range', 'zero-spread groups', 'a', 'b'];
    const series = labels.map((label, i) => ({
      label,
      points: [
        [0, i],
        [10, 10 - i],
      ] as [number, number][],
    }));
    const svg = lineChart({ title: 'format', series });
    checkMarkup(svg);
    const texts = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" font-size="11" fill="[^"]*">([^<]*)<\/text>/g)].map((m) => ({
      x: Number(m[1]),
      y: Number(m[2]),
      label: m[3],
    }));
    expect(texts.map((t) => t.label)).toEqual(labels);
    const rows = [...new Set(texts.map((t) => t.y))];
    expect(rows.length).toBeGreaterThan(1); // these labels do not fit one row of a 560-pixel chart
    const W = Number(attrs(svg, 'svg', 'width')[0]);
    for (const t of texts) expect(t.x + t.label.length * 6.2).toBeLessThanOrEqual(W);
    // the plot starts below the last legend row: every grid line and every curve point lies under it
    const plotTop = Math.min(...attrs(svg, 'line', 'y1').map(Number));
    expect(plotTop).toBeGreaterThan(Math.max(...rows) + 3);
    for (const d of attrs(svg, 'path', 'd')) for (const [, y] of pathPoints(d)) expect(y).toBeGreaterThanOrEqual(plotTop - 0.05);
    // with one short label the legend takes one row and the plot keeps most of its height
    const one = lineChart({ title: 't', series: [series[0]] });
    expect(Math.min(...attrs(one, 'line', 'y1').map(Number))).toBeLessThan(plotTop);
  });

  it('says "no data" when nothing is finite', () => {
    const svg = lineChart({ title: 'nothing', series: [{ label: 'a', points: [[1, NaN]] }] });
    checkMarkup(svg);
    expect(svg).toContain('no data');
    expect(count(svg, 'path')).toBe(0);
  });
});

describe('scatterPlot', () => {
  it('one dot per finite point, optional y = x line, no data when empty', () => {
    const pts = [
      { x: 100, y: 120 },
      { x: 200, y: 180, label: 'p2' },
      { x: NaN, y: 1 },
    ];
    const svg = scatterPlot({ title: 'length', series: [{ label: 'answers', points: pts }], diagonal: true });
    checkMarkup(svg);
    expect(count(svg, 'circle')).toBe(2);
    expect(svg).toContain('<title>p2: (200, 180)</title>');
    expect(count(svg, 'path')).toBe(1);
    expect(scatterPlot({ title: 'x', series: [{ label: 'a', points: [] }] })).toContain('no data');
  });

  it('keeps the extreme points off the plot border', () => {
    const svg = scatterPlot({
      title: 't',
      series: [
        {
          label: 'a',
          points: [
            { x: 0, y: 0 },
            { x: 10, y: 5 },
          ],
        },
      ],
    });
    const [W, H] = [Number(attrs(svg, 'svg', 'width')[0]), Number(attrs(svg, 'svg', 'height')[0])];
    const cx = attrs(svg, 'circle', 'cx').map(Number);
    const cy = attrs(svg, 'circle', 'cy').map(Number);
    const legendY = Number(/<text x="[\d.]+" y="([\d.]+)" font-size="11" fill=/.exec(svg)?.[1]);
    expect(Math.min(...cx)).toBeGreaterThan(64 + 5); // PAD.left
    expect(Math.max(...cx)).toBeLessThan(W - 14 - 5); // PAD.right
    expect(Math.max(...cy)).toBeLessThan(H - 44 - 3); // PAD.bottom
    expect(Math.min(...cy)).toBeGreaterThan(legendY + 12 + 3); // below the legend row and the plot's top edge
  });
});

describe('titles', () => {
  it('a long title starts at the chart edge and shrinks to fit instead of running past it', () => {
    const long = 'Arena Elo minus 1000 (RM judge, 95 % interval; base = 0)';
    const titleOf = (svg: string) => {
      const m = /<text x="([\d.]+)" y="17" font-size="(\d+)" font-weight="bold">/.exec(svg);
      return { x: Number(m?.[1]), size: Number(m?.[2]) };
    };
    expect(titleOf(lineChart({ title: 'loss', series: [] }))).toEqual({ x: 64, size: 13 }); // short: over the plot
    const bar = (width: number) => barChart({ title: long, bars: [{ label: 'a', value: 1 }], width });
    expect(titleOf(bar(520))).toEqual({ x: 8, size: 13 }); // fits from the edge
    const narrow = titleOf(bar(320));
    expect(narrow.x).toBe(8);
    expect(narrow.size).toBeLessThan(13);
    expect((long.length * TITLE_CHAR_PX * narrow.size) / 13).toBeLessThanOrEqual(320 - 16);
  });
});

describe('heatmap width', () => {
  it('grows to hold its title when the cells are fewer than the title is long', () => {
    const title = 'Win rate: row beats column (judge verdicts)';
    const svg = heatmap({
      title,
      rowLabels: ['a', 'b'],
      colLabels: ['a', 'b'],
      values: [
        [null, 0.9],
        [0.1, null],
      ],
    });
    checkMarkup(svg);
    expect(Number(attrs(svg, 'svg', 'width')[0])).toBeGreaterThanOrEqual(16 + title.length * TITLE_CHAR_PX);
  });
});

describe('axis tick labels', () => {
  // the y tick labels, lowest first (the right-aligned texts left of the plot)
  const yTicks = (svg: string) => [...svg.matchAll(/font-size="10" text-anchor="end">([^<]*)<\/text>/g)].map((m) => m[1]);
  const line = (ys: number[]) => lineChart({ title: 't', series: [{ label: 'a', points: ys.map((y, i) => [i, y] as [number, number]) }] });

  it('share one notation on an axis: tokens/s across 10,000 read 6000 ... 14000, not 8000 then 1.0e+4', () => {
    expect(yTicks(line([5800, 9000, 14500]))).toEqual(['6000', '8000', '10000', '12000', '14000']);
    const bars = barChart({
      title: 'b',
      bars: [
        { label: 'a', value: 14500 },
        { label: 'b', value: 3000 },
      ],
    });
    expect(yTicks(bars)).toEqual(['0', '5000', '10000']);
  });

  it('use exponent notation for every tick when one needs it, with enough digits to tell them apart', () => {
    expect(yTicks(line([1.1e-4, 3e-4]))).toEqual(['1.5e-4', '2.0e-4', '2.5e-4', '3.0e-4']);
    expect(yTicks(line([0, 2.2e6]))).toEqual(['0', '5.0e+5', '1.0e+6', '1.5e+6', '2.0e+6']);
    expect(yTicks(line([1.02e6, 1.06e6]))).toEqual(['1.02e+6', '1.03e+6', '1.04e+6', '1.05e+6', '1.06e+6']);
  });

  it('keep the tick at the lowest value as well as at the highest when both fall on the tick step', () => {
    expect(yTicks(line([1e-4, 3e-4]))).toEqual(['1.0e-4', '1.5e-4', '2.0e-4', '2.5e-4', '3.0e-4']);
    expect(yTicks(line([0.07, 0.11]))).toEqual(['0.07', '0.08', '0.09', '0.1', '0.11']);
  });
});

describe('barChart', () => {
  it('bars grow from zero in proportion to their values, with whiskers, skipping non-finite values', () => {
    const svg = barChart({
      title: 'rating',
      bars: [
        { label: 'a', value: 4, low: 3, high: 5 },
        { label: 'b', value: -2 },
        { label: 'c', value: NaN },
      ],
    });
    checkMarkup(svg);
    expect(count(svg, 'rect')).toBe(2);
    expect(svg).not.toContain('>c<');
    const heights = attrs(svg, 'rect', 'height').map(Number);
    expect(heights[0] / heights[1]).toBeCloseTo(2, 1);
    const ys = attrs(svg, 'rect', 'y').map(Number);
    expect(ys[0] + heights[0]).toBeCloseTo(ys[1], 0); // a ends at the zero line where b starts
    expect(count(svg, 'path')).toBe(1); // one whisker
    expect(attrs(svg, 'text', 'paint-order')).toHaveLength(2); // each value label on a halo over its whisker
    expect(barChart({ title: 'x', bars: [{ label: 'a', value: NaN }] })).toContain('no data');
  });
});

describe('heatmap', () => {
  const rgb = (fill: string) => (/rgb\((\d+),(\d+),(\d+)\)/.exec(fill) ?? []).slice(1).map(Number);

  it('one cell per entry, empty cells for missing values, darker for larger values', () => {
    const svg = heatmap({
      title: 'win rate',
      rowLabels: ['a', 'b'],
      colLabels: ['a', 'b'],
      values: [
        [null, 0.9],
        [0.1, NaN],
      ],
      min: 0,
      max: 1,
    });
    checkMarkup(svg);
    expect(count(svg, 'rect')).toBe(4);
    const fills = attrs(svg, 'rect', 'fill');
    expect(fills.filter((f) => f === '#e6e6e6')).toHaveLength(2);
    const [hi, lo] = [rgb(fills[1]), rgb(fills[2])];
    expect(hi.reduce((a, b) => a + b)).toBeLessThan(lo.reduce((a, b) => a + b));
    expect(svg).toContain('>0.9<');
  });

  it('a diverging scale colours values below and above the centre differently', () => {
    const svg = heatmap({ title: 'w', rowLabels: ['r'], colLabels: ['x', 'y', 'z'], values: [[0.2, 0.5, 0.8]], center: 0.5 });
    const [below, mid, above] = attrs(svg, 'rect', 'fill').map(rgb);
    expect(below[0]).toBeGreaterThan(below[2]); // red side
    expect(above[2]).toBeGreaterThan(above[0]); // blue side
    expect(mid).toEqual([247, 247, 247]);
  });

  it('refuses values that do not match the labels', () => {
    expect(() => heatmap({ title: 'w', rowLabels: ['a'], colLabels: ['x', 'y'], values: [[1]] })).toThrow(/1 rows of 2/);
  });
});
