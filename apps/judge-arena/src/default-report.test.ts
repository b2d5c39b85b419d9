// The eval-default summary page and report.md: each note (the judge caveat, a missing ablation) is its own list
// item ahead of the leaderboard, escaped, and none is folded into the facts table. Built from a summary by hand.
import { defaultHtml, defaultMarkdown, type DefaultSummary } from './default-report';

const NOTES = [
  'the judge is the reward model grpo-tiny trained against (its quality reward): ...; for that, judge the answers files',
  'rl-direct: runs/<b>x</b>/heldout-rl.jsonl not found (the grpo-tiny-direct ablation has not been run, or not to its end); left out',
];

const summary: DefaultSummary = {
  judge: 'scorer-pairwise:builtin-rm',
  anchor: 'base',
  prompts: 24,
  resamples: 200,
  notes: NOTES,
  leaderboard: [
    {
      model: 'rl',
      file: 'rl.jsonl',
      elo: 1280,
      eloLow: 1120,
      eloHigh: 1545,
      S_l: 55,
      S_lLow: 40,
      S_lHigh: 70,
      formatValid: 0.79,
      answerWords: 56.5,
      answers: 24,
    },
    {
      model: 'base',
      file: 'base.jsonl',
      elo: 1000,
      eloLow: 1000,
      eloHigh: 1000,
      S_l: 41.7,
      S_lLow: 26,
      S_lHigh: 57,
      formatValid: 0.25,
      answerWords: 97.7,
      answers: 24,
    },
  ],
};

describe('the eval-default summary report', () => {
  it('lists each note on its own, escaped, before the leaderboard; the facts table holds no notes', () => {
    const html = defaultHtml(summary);
    const items = [...html.matchAll(/<h2>Notes<\/h2><ul>(.*?)<\/ul>/g)].flatMap((m) =>
      [...m[1].matchAll(/<li>(.*?)<\/li>/g)].map((li) => li[1]),
    );
    expect(items).toEqual([NOTES[0], NOTES[1].replace('<b>x</b>', '&lt;b&gt;x&lt;/b&gt;')]);
    expect(html.indexOf('<h2>Notes</h2>')).toBeLessThan(html.indexOf('<h2>Leaderboard</h2>'));
    expect(/<table class="facts">.*?<\/table>/.exec(html)?.[0]).not.toMatch(/notes|not found/);

    const md = defaultMarkdown(summary).split('\n');
    const notes = md.indexOf('## Notes');
    expect(md.slice(notes + 2, notes + 4)).toEqual([`- ${NOTES[0]}`, `- ${NOTES[1].replace('<b>x</b>', '&lt;b&gt;x&lt;/b&gt;')}`]);
    expect(notes).toBeLessThan(md.indexOf('## Leaderboard'));
  });

  it('has no Notes section when there is nothing to note', () => {
    expect(defaultHtml({ ...summary, notes: [] })).not.toContain('Notes');
    expect(defaultMarkdown({ ...summary, notes: [] })).not.toContain('Notes');
  });
});
