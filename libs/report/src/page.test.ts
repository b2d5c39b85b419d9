// Pages and tables: every text slot escaped, collapsible sections, no scripts or external assets, and
// tables that refuse ragged rows.
import { escapeHtml } from './escape';
import { lineChart } from './line-chart';
import { details, renderReport } from './page';
import { htmlTable, markdownTable } from './table';
import { checkMarkup, count } from './testing/markup';

const EVIL = '<script>alert("x")</script> & \'q\'';
const ESCAPED = escapeHtml(EVIL);
const occurrences = (html: string, s: string) => html.split(s).length - 1;

describe('renderReport', () => {
  it('escapes untrusted text in every slot: title, facts, headings, text, tables, details', () => {
    const table = htmlTable({ columns: [EVIL], rows: [[EVIL]], caption: EVIL });
    const html = renderReport(EVIL, { [EVIL]: EVIL }, [
      { heading: EVIL, text: EVIL },
      { heading: 'table', html: table + details(EVIL, '<p>ok</p>') },
      { heading: EVIL, text: EVIL, collapsed: true },
    ]);
    checkMarkup(html);
    expect(html).not.toContain('<script');
    // <title>, <h1>, fact key and value, two headings, two <pre>, table header/cell/caption, details summary
    expect(occurrences(html, ESCAPED)).toBe(12);
    expect(escapeHtml(EVIL)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;');
  });

  it('is self-contained: no scripts, no external references; collapsed sections fold', () => {
    const chart = lineChart({
      title: 'c',
      series: [
        {
          label: 'a',
          points: [
            [1, 1],
            [2, 2],
          ],
        },
      ],
    });
    const html = renderReport('r', { steps: 2 }, [
      { heading: 'open', html: chart },
      { heading: 'folded', text: 'body', collapsed: true },
    ]);
    checkMarkup(html);
    expect(count(html, 'script')).toBe(0);
    expect(html).not.toMatch(/\s(src|href)=/);
    expect(html.match(/https?:\/\/[^"]*/g)).toEqual(['http://www.w3.org/2000/svg']); // the SVG namespace only
    expect(count(html, 'details')).toBe(1);
    expect(html).toMatch(/<details><summary><h2>folded<\/h2><\/summary><pre>body<\/pre><\/details>/);
  });

  it('lets every slot of free text wrap anywhere, so a long run name or an unbroken word cannot widen the page', () => {
    const html = renderReport('x'.repeat(3000), {}, [{ heading: 'y'.repeat(3000), text: 'z' }]);
    const style = /<style>([\s\S]*)<\/style>/.exec(html)?.[1] ?? '';
    const wrapping = new Set<string>();
    for (const [, selectors, body] of style.matchAll(/([^{}]+)\{([^}]*)\}/g)) {
      if (/overflow-wrap:\s*anywhere/.test(body)) for (const sel of selectors.split(',')) wrapping.add(sel.trim());
    }
    // title, section headings, table captions, cells, <pre> text, <details> summaries (a header keeps its
    // words whole: wrapping it anywhere would let a long value squeeze a facts table's keys to a letter a line)
    for (const slot of ['h1', 'h2', 'caption', 'td', 'pre', 'summary']) expect(wrapping).toContain(slot);
  });
});

describe('tables', () => {
  it('formats numbers, right-aligns them and leaves empty cells empty', () => {
    const html = htmlTable({ columns: ['model', 'elo', 'note'], rows: [['a', 1447.25, null]] });
    checkMarkup(html);
    expect(html).toContain('<td class="num">1447</td>');
    expect(html).toContain('<td></td>');
  });

  it('markdown: escapes markup and pipes, folds newlines, so one row stays one row', () => {
    const md = markdownTable({ columns: ['a', 'b'], rows: [['x | y\nz', 0.5]] });
    expect(md.trim().split('\n')).toEqual(['| a | b |', '| --- | --- |', '| x &#124; y z | 0.5 |']);
    expect(markdownTable({ columns: ['a'], rows: [[EVIL]] })).not.toContain('<script');
  });

  it('markdown: a lone \\r or U+2028 cannot end a row, and no link, code span or backslash escape forms', () => {
    const md = markdownTable({ columns: ['a', 'b'], rows: [['x\r| forged | 1 |\u2028y', '[click](javascript:alert(1)) `c` \\']] });
    expect(md.trimEnd().split(/\r\n|[\r\n\u2028\u2029]/)).toHaveLength(3);
    expect(md).toContain('| x &#124; forged &#124; 1 &#124; y | [click\\](javascript:alert(1)) \\`c\\` \\\\ |');
  });

  it('refuses rows whose width differs from the header', () => {
    expect(() => htmlTable({ columns: ['a', 'b'], rows: [['x']] })).toThrow(/row 0 has 1 cells, the header 2/);
    expect(() => markdownTable({ columns: ['a'], rows: [['x', 'y']] })).toThrow(/row 0/);
  });
});
