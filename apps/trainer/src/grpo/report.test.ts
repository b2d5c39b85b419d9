// The learnability summary of a GRPO run: means of the first and last N steps, checked against sums done by
// hand; missing or non-numeric values are left out, not counted as 0. The held-out table's cells and paired
// difference; and the report page, whose model text (sample prompts and answers) must arrive escaped, and whose
// policy-drift chart plots the clip fraction and the KL from their own keys.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineChart } from '@lwz/report';
import { resolveGrpoConfig } from './config';
import { heldoutTable, pairedSlDifference, trend, trendTable, writeGrpoReport } from './report';

describe('trend', () => {
  it('averages the first and the last window of steps', () => {
    const rows = Array.from({ length: 25 }, (_, i) => ({ step: i + 1, 'reward/length/mean': i, 'format/valid': i < 10 ? 0 : 1 }));
    const t = trend(rows, 10);
    expect(t.window).toBe(10);
    expect(t.means['reward/length/mean'][0]).toBeCloseTo(4.5, 12); // (0 + ... + 9) / 10
    expect(t.means['reward/length/mean'][1]).toBeCloseTo(19.5, 12); // (15 + ... + 24) / 10
    expect(t.means['format/valid']).toEqual([0, 1]);
    expect(t.means['repetition/rate'][0]).toBeNaN();
  });

  it('skips missing values and shrinks the window to a short run', () => {
    const rows = [{ 'reward/format/mean': 1 }, { 'reward/format/mean': 'x' }, { 'reward/format/mean': 0.5 }];
    const t = trend(rows, 10);
    expect(t.window).toBe(3);
    expect(t.means['reward/format/mean']).toEqual([0.75, 0.75]);
  });
});

describe('trendTable', () => {
  it('shows rewards and shares to 3 decimals and answer words to 1', () => {
    const rows = [
      { 'reward/length/mean': 0.12345, 'length/answer_words/mean': 98.25 },
      { 'reward/length/mean': 0.5, 'length/answer_words/mean': 120.75 },
    ];
    const cells = [...trendTable(trend(rows, 1)).matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
    const row = (label: string) => cells.slice(cells.indexOf(label), cells.indexOf(label) + 3);
    expect(row('length reward')).toEqual(['length reward', '0.123', '0.500']);
    expect(row('answer words')).toEqual(['answer words', '98.3', '120.8']);
  });
});

describe('held-out comparison', () => {
  const side = (label: string, slPerAnswer: number[]) => ({
    label,
    sl: slPerAnswer.reduce((a, b) => a + b, 0) / slPerAnswer.length,
    slLow: 0,
    slHigh: 100,
    slPerAnswer,
    formatValid: 1,
    lengthReward: 0.5,
    quality: 0.2,
    qualityValid: Number.NaN,
    answerWords: 80,
    inRange: 0.5,
    truncated: 0.25,
  });

  it('gives the paired S_l difference prompt by prompt with a bootstrap interval that holds it, and shows it', () => {
    const base = side('base', [10, 20, 30, 40, 50, 60]);
    const rl = side('rl', [30, 35, 50, 55, 80, 70]); // differences 20, 15, 20, 15, 30, 10: mean 18.33
    const d = pairedSlDifference({ prompts: 6, sides: [base, rl] });
    expect(d?.mean).toBeCloseTo(110 / 6, 9);
    expect(d && d.low >= 10 && d.low <= d.mean && d.high >= d.mean && d.high <= 30).toBe(true); // within the differences' range
    const html = heldoutTable({ prompts: 6, sides: [base, rl] });
    expect(html).toContain(`paired S_l difference rl - base: +${(110 / 6).toFixed(1)} [`);
    expect(html).toContain('<td>25 %</td>'); // truncated at the cap
    expect(pairedSlDifference({ prompts: 6, sides: [rl] })).toBeNull();
    expect(pairedSlDifference({ prompts: 6, sides: [base, side('rl', [1, 2])] })).toBeNull();
  });
  it('differences the last side against the first, and gives none for sides without answers', () => {
    const base = side('base', [10, 20]);
    const mid = side('sft', [90, 90]);
    const rl = side('rl', [16, 30]); // differences 6, 10
    expect(pairedSlDifference({ prompts: 2, sides: [base, mid, rl] })).toMatchObject({ from: 'base', to: 'rl', mean: 8 });
    expect(pairedSlDifference({ prompts: 0, sides: [side('base', []), side('rl', [])] })).toBeNull();
  });

  it('writes each side as a row: S_l [low, high], shares as percentages, "-" for no valid answer; a zero difference signed', () => {
    const one = { ...side('base', [40, 60]), slLow: 35, slHigh: 65, formatValid: 0.75, qualityValid: 0.4567 };
    const html = heldoutTable({ prompts: 2, sides: [one, side('rl', [40, 60])] });
    const cells = [...html.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(cells.slice(0, 9)).toEqual(['base', '50.0 [35.0, 65.0]', '75 %', '0.500', '50 %', '0.200', '0.457', '25 %', '80']);
    expect(cells[15]).toBe('-'); // rl: no format-valid answer to average
    expect(html).toContain('paired S_l difference rl - base: +0.0 [+0.0, +0.0]');
  });
});

describe('writeGrpoReport', () => {
  it('escapes the sample prompt and answer, and names the step, words and target of each sample', () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-grpo-report-'));
    const metrics = join(out, 'metrics.jsonl');
    const sample = { 'sample/prompt': 'Write <b>bold</b>', 'sample/response': '<answer><script>x</script></answer>' };
    const rows = [{ step: 1, ...sample, 'sample/answer_words': 7, 'sample/target': '[5,9]' }];
    writeFileSync(metrics, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeGrpoReport(resolveGrpoConfig({ overrides: { out } }), metrics, 'generated', null);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('step 1: 7 words for target [5,9]');
    expect(html).toContain('&lt;answer&gt;&lt;script&gt;x&lt;/script&gt;&lt;/answer&gt;');
    expect(html).toContain('Write &lt;b&gt;bold&lt;/b&gt;');
    expect(html).not.toMatch(/<script>|<\/answer>|<b>bold/);
    expect(html).not.toContain('Held-out prompts: base vs RL'); // no evaluation yet
  });

  it('draws the clip fraction from policy/clip_frac (low + high) and the KL only where it was measured', () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-grpo-report-'));
    const metrics = join(out, 'metrics.jsonl');
    const rows = [
      { step: 1, 'policy/clip_frac': 0.2, 'policy/clip_frac_low': 0.05, 'policy/clip_frac_high': 0.15, 'policy/kl_start': 0.01 },
      { step: 2, 'policy/clip_frac': 0.4, 'policy/clip_frac_low': 0.1, 'policy/clip_frac_high': 0.3 },
      { step: 3, 'policy/clip_frac': 0.3, 'policy/clip_frac_low': 0, 'policy/clip_frac_high': 0.3, 'policy/kl_start': null },
    ];
    writeFileSync(metrics, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeGrpoReport(resolveGrpoConfig({ overrides: { out } }), metrics, 'generated', null);
    const want = lineChart({
      title: 'policy drift: clip fraction and KL to the start policy',
      xLabel: 'step',
      series: [
        {
          label: 'clip fraction',
          points: [
            [1, 0.2],
            [2, 0.4],
            [3, 0.3],
          ],
          color: '#1f77b4',
        },
        { label: 'KL to start', points: [[1, 0.01]], color: '#d62728' },
      ],
    });
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain(want);
  });
});
