// Batch monitors on a small hand-made batch whose every value is counted by hand.
import { contiguousGroups } from './advantage/groups';
import { type MonitorRow, distinctN, rewardMonitors } from './monitors';

const rep = (ngramDup: number, penalty = 0) => ({ ngramDup, duplicateParagraphShare: 0, maxParagraphOverlap: 0, penalty });

const rows: MonitorRow[] = [
  {
    answer: 'a b c',
    answerWords: 100,
    targetRange: [90, 110],
    skip: false,
    formatValid: true,
    repetition: rep(0),
    finishReason: 'stop',
    rewards: { length: 1, format: 1 },
  },
  {
    answer: 'a b d',
    answerWords: 50,
    targetRange: [90, 110],
    skip: false,
    formatValid: false,
    repetition: rep(0.2, 0.5),
    finishReason: 'length',
    rewards: { length: 0.5, format: 0 },
  },
  {
    answer: '',
    answerWords: 0,
    targetRange: [0, 0],
    skip: true,
    formatValid: false,
    repetition: rep(0),
    rewards: { length: 0, format: 0 },
  },
  {
    answer: 'x y',
    answerWords: 300,
    targetRange: [100, 300],
    skip: false,
    formatValid: true,
    repetition: rep(0.1),
    finishReason: 'stop',
    rewards: { length: 1, format: 0 },
  },
];

describe('rewardMonitors', () => {
  it('computes every key of a hand-counted batch', () => {
    const m = rewardMonitors(rows, contiguousGroups(2, 2));
    expect(m['reward/length/mean']).toBeCloseTo(2.5 / 4, 12);
    expect(m['reward/length/std']).toBeCloseTo(Math.sqrt(((1 - 0.625) ** 2 * 2 + (0.5 - 0.625) ** 2 + 0.625 ** 2) / 4), 12);
    expect(m['reward/format/mean']).toBeCloseTo(0.25, 12);
    expect(m['format/broken']).toBe(0.5);
    expect(m['repetition/rate']).toBeCloseTo(0.3 / 4, 12);
    expect(m['repetition/penalty']).toBeCloseTo(0.125, 12);
    expect(m['length/answer_words/mean']).toBeCloseTo(450 / 4, 12);
    expect(m['length/skipped']).toBe(0.25);
    // targeted rows: 100/100, 50/100, 300/200
    expect(m['length/ratio/mean']).toBeCloseTo((1 + 0.5 + 1.5) / 3, 12);
    expect(m['length/in_range']).toBeCloseTo(2 / 3, 12);
    expect(m['finish/truncated']).toBe(0.25);
    // bigrams: ab bc | ab bd | xy -> 4 distinct of 5
    expect(m['text/distinct_2']).toBeCloseTo(4 / 5, 12);
    expect(m['text/distinct_3']).toBeCloseTo(1, 12);
    // group 0: length 1 vs 0.5, format 1 vs 0; group 1: length 0 vs 1, format 0 vs 0
    expect(m['groups/zero_spread/length']).toBe(0);
    expect(m['groups/zero_spread/format']).toBe(0.5);
    expect(m['groups/zero_spread/all']).toBe(0);
  });

  it('counts answers at exactly lo or hi as in range, and only [0, 0] targets as skipped', () => {
    const at = (answerWords: number): MonitorRow => ({ ...rows[0], answerWords, targetRange: [90, 110] });
    // 90 and 110 are in [90, 110]; 0 and 111 are not; the empty answer has a target, so it is not skipped
    const m = rewardMonitors([at(90), at(110), at(0), at(111)]);
    expect(m['length/in_range']).toBeCloseTo(2 / 4, 12);
    expect(m['length/skipped']).toBe(0);
  });

  it('averages each repetition measure from its own field, and counts a group constant only when exactly equal', () => {
    const row = (ngramDup: number, duplicateParagraphShare: number, length: number): MonitorRow => ({
      ...rows[0],
      repetition: { ngramDup, duplicateParagraphShare, maxParagraphOverlap: 1, penalty: 0.5 },
      rewards: { length, format: 1 },
    });
    const m = rewardMonitors([row(0.1, 0.4, 0.5), row(0, 0.2, 0.55)], contiguousGroups(1, 2));
    expect(m['repetition/rate']).toBeCloseTo(0.05, 12);
    expect(m['repetition/duplicate_paragraphs']).toBeCloseTo(0.3, 12);
    // 0.5 and 0.55 differ: that group has spread in length, none in format
    expect(m['groups/zero_spread/length']).toBe(0);
    expect(m['groups/zero_spread/format']).toBe(1);
  });

  it('leaves out keys with nothing to average, and group keys without groups', () => {
    expect(rewardMonitors([])).toEqual({});
    const m = rewardMonitors([rows[2]]);
    expect(m['length/ratio/mean']).toBeUndefined();
    expect(m['length/in_range']).toBeUndefined();
    expect(Object.keys(m).some((k) => k.startsWith('groups/'))).toBe(false);
    expect(Object.values(m).every(Number.isFinite)).toBe(true);
    expect(() => rewardMonitors(rows, contiguousGroups(1, 2))).toThrow(/4 rows but 2 group ids/);
  });

  it('distinct-n is 1 for unrepeated text and falls with repetition, case-insensitively', () => {
    expect(distinctN(['The cat sat on the mat'], 2)).toBe(1);
    expect(distinctN(['the cat the cat', 'THE CAT'], 2)).toBeCloseTo(2 / 4, 12);
    expect(distinctN([''], 3)).toBe(0);
    // word boundaries count: "ab c" and "a bc" are two different bigrams
    expect(distinctN(['ab c', 'a bc'], 2)).toBe(1);
  });
});
