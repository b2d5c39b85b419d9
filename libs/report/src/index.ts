// @lwz/report: self-contained HTML reports for training runs, evaluations and benchmarks: inline SVG charts
// (lines, scatter, bars, heatmaps), tables (HTML and Markdown), collapsible sections, one escaping
// function every text goes through. No scripts, no external assets, no file I/O (callers write atomically).
export { escapeHtml } from './escape';
export { formatValue, niceTicks } from './format';
export { PALETTE, type ChartOptions } from './frame';
export { lineChart, type Series } from './line-chart';
export { scatterPlot, type ScatterPoint, type ScatterSeries } from './scatter-plot';
export { barChart, type Bar } from './bar-chart';
export { heatmap, type HeatmapOptions } from './heatmap';
export { htmlTable, factsTable, markdownTable, markdownText, type Cell, type TableOptions } from './table';
export { renderReport, details, preformatted, type ReportSection } from './page';
