import { renderReport } from './html';
import { escapeXml, lineChart } from './svg-chart';

describe('reports', () => {
  it('escapes untrusted text everywhere it appears', () => {
    const evil = '<script>alert("x")</script> & \'q\'';
    const html = renderReport(evil, { [evil]: evil }, [{ heading: evil, text: evil }]);
    expect(html).not.toContain('<script>');
    expect(html.split(escapeXml(evil)).length - 1).toBe(6); // <title>, <h1>, fact key, fact value, <h2>, <pre>
    expect(escapeXml(evil)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;');
  });

  it('draws one path per non-empty series and says when there is no data', () => {
    const svg = lineChart('loss', [
      {
        label: 'train',
        points: [
          [1, 3],
          [2, 2.5],
          [3, 2],
        ],
        color: '#111',
      },
      { label: 'empty', points: [], color: '#222' },
      { label: 'val', points: [[3, 2.2]], color: '#333' },
    ]);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('<circle'); // a single point is drawn as a dot
    expect(lineChart('nothing', [{ label: 'a', points: [[1, NaN]], color: '#000' }])).toContain('no data');
  });
});
