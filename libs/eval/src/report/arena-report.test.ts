// The arena's HTML report read as a reader reads it: a player keeps one colour in every chart (the
// leaderboard bars, rating against length, required against actual length), whatever order the players
// came in. Judged by a function scorer through pairwiseFromScorer, so no server is needed.
import { pairwiseFromScorer } from '@lwz/judges';
import { createFunctionScorer } from '@lwz/rewards';
import { runArena, type ArenaPlayer, type ArenaPrompt } from '../arena';
import { arenaHtml } from './arena-report';

const quality = (t: string) => Number(/q=([\d.]+)/.exec(t)?.[1] ?? 0.5);

describe('arenaHtml', () => {
  it('gives each player the same colour in the bar chart and both scatter plots when input and leaderboard orders differ', async () => {
    const prompts: ArenaPrompt[] = Array.from({ length: 4 }, (_, i) => ({
      key: `p${i}`,
      id: `p${i}`,
      prompt: `Write ${100 + 50 * i} words.`,
      required: 100 + 50 * i,
    }));
    // input order weakest first: the leaderboard (and the bars) list them the other way round
    const players: ArenaPlayer[] = [
      ['weak', 0.2],
      ['middle', 0.5],
      ['strong', 0.8],
    ].map(([name, q]) => ({
      name: name as string,
      kind: 'model' as const,
      answers: new Map(prompts.map((p, i) => [p.key, { text: `${name} q=${q} ${i}`, words: 80 + 40 * i }])),
    }));
    const scorer = createFunctionScorer('fake-rm', (item) => quality(item.answer ?? item.response));
    const result = await runArena({ prompts, players, judge: pairwiseFromScorer(scorer, { tieMargin: 0.05 }), resamples: 100 });
    expect(result.players.map((p) => p.name)).toEqual(['strong', 'middle', 'weak']);

    const svgs = arenaHtml(result, players).match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    const svgTitled = (title: string) => svgs.find((s) => s.includes(`aria-label="${title}"`)) ?? '';
    const barColours = Object.fromEntries(
      [...svgTitled('Rating with 95 % bootstrap interval').matchAll(/fill="([^"]+)"><title>(\w+):/g)].map((m) => [m[2], m[1]]),
    );
    const legendColours = (svg: string) =>
      Object.fromEntries([...svg.matchAll(/font-size="11" fill="([^"]+)">(\w+)<\/text>/g)].map((m) => [m[2], m[1]]));
    expect(Object.keys(barColours).sort()).toEqual(['middle', 'strong', 'weak']);
    expect(legendColours(svgTitled('Rating against mean answer length'))).toEqual(barColours);
    expect(legendColours(svgTitled('Required against actual length'))).toEqual(barColours);
  });
});
