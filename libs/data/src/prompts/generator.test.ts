import { parseLengthRequirement } from '@lwz/rewards';
import { countWords } from '@lwz/tokenizer';
import { parsePromptSet } from './loaders';
import { formatJsonl } from '@lwz/core';
import { GENRES, TOPICS, type Theme } from './catalog';
import { DEFAULT_GENERATOR_OPTIONS, DEFAULT_LENGTH_BUDGET, generateWritingPrompts, maxAnswerWords, splitTopics } from './generator';

const opts = { ...DEFAULT_GENERATOR_OPTIONS, train: 600, heldout: 120, seed: 11 };

/** The written numbers, read back from the prompt text independently of the generator's fields. */
function writtenRange(prompt: string): [number, number] {
  let m = /(\d+)-word/.exec(prompt);
  if (m) return [0.9 * +m[1], 1.1 * +m[1]];
  m = /(?:about|approximately|roughly) (\d+) words/.exec(prompt);
  if (m) return [0.9 * +m[1], 1.1 * +m[1]];
  m = /(?:at least|no fewer than) (\d+) words/.exec(prompt);
  if (m) return [+m[1], 1.1 * +m[1]];
  m = /(?:no more than|under|at most) (\d+) words/.exec(prompt);
  if (m) return [0.9 * +m[1], +m[1]];
  m = /(\d+)(?:-| and | to )(\d+) words/.exec(prompt);
  if (m) return [+m[1], +m[2]];
  throw new Error(`no length requirement in ${JSON.stringify(prompt)}`);
}

describe('writing-prompt generator', () => {
  const out = generateWritingPrompts(opts);

  it('is deterministic by seed', () => {
    expect(generateWritingPrompts(opts)).toEqual(out);
    expect(generateWritingPrompts({ ...opts, seed: 12 }).train.map((r) => r.prompt)).not.toEqual(out.train.map((r) => r.prompt));
  });

  it('states the length in the prompt that length_range encodes, within the context budget', () => {
    const maxWords = maxAnswerWords(DEFAULT_LENGTH_BUDGET);
    // (2048 - 256) / 1.4 = 1280
    expect(maxWords).toBe(1280);
    for (const row of [...out.train, ...out.heldout]) {
      const [lo, hi] = writtenRange(row.prompt);
      expect(row.length_range[0]).toBeCloseTo(lo, -0.5);
      expect(row.length_range[1]).toBeCloseTo(hi, -0.5);
      expect(row.length_range[1]).toBeLessThanOrEqual(maxWords);
      expect(row.length_range[0]).toBeGreaterThanOrEqual(0.9 * DEFAULT_LENGTH_BUDGET.minWords);
      expect(row.length).toBe(Math.round((row.length_range[0] + row.length_range[1]) / 2));
      expect(row.prompt).toContain(row.topic);
    }
  });

  it("writes the length_range the rewards' length rule reads back from the prompt itself", () => {
    for (const row of [...out.train, ...out.heldout]) {
      expect({ prompt: row.prompt, range: parseLengthRequirement(row.prompt)?.range }).toEqual({
        prompt: row.prompt,
        range: row.length_range,
      });
    }
  });

  it('covers every length form and genre, with distinct prompts', () => {
    expect(new Set(out.train.map((r) => r.length_form))).toEqual(new Set(['exact', 'about', 'at-least', 'at-most', 'range']));
    expect(new Set(out.train.map((r) => r.genre)).size).toBe(7);
    expect(new Set(out.train.map((r) => r.prompt)).size).toBe(out.train.length);
    expect(countWords(out.train[0].prompt)).toBeGreaterThan(4);
  });

  it("names each genre with a noun that suits the topic's theme", () => {
    const themeOf = (topic: string) => (Object.keys(TOPICS) as Theme[]).find((t) => TOPICS[t].includes(topic));
    for (const row of out.train) {
      const genre = GENRES.find((g) => g.name === row.genre);
      const theme = themeOf(row.topic);
      expect(theme && genre?.themes.includes(theme)).toBe(true);
      const nouns = [...(genre?.nouns.any ?? []), ...(theme ? (genre?.nouns[theme] ?? []) : [])];
      expect(nouns.some((n) => row.prompt.includes(n))).toBe(true);
      const otherThemes = (Object.keys(TOPICS) as Theme[]).filter((t) => t !== theme);
      const foreign = otherThemes.flatMap((t) => genre?.nouns[t] ?? []).filter((n) => !nouns.some((ok) => ok.includes(n)));
      for (const n of foreign) expect(row.prompt).not.toContain(n);
    }
  });

  it('holds out topics: no held-out topic or prompt appears in training', () => {
    const trainTopics = new Set(out.train.map((r) => r.topic));
    for (const r of out.heldout) expect(trainTopics.has(r.topic)).toBe(false);
    const split = splitTopics(opts.heldoutTopicFraction);
    for (const theme of Object.keys(TOPICS) as (keyof typeof TOPICS)[]) {
      expect(split.heldout[theme].length).toBe(Math.ceil(0.2 * TOPICS[theme].length));
      expect([...split.train[theme], ...split.heldout[theme]].sort()).toEqual([...TOPICS[theme]].sort());
    }
  });

  it('round-trips through the prompt loader as the lwz-writing format', () => {
    const set = parsePromptSet(formatJsonl(out.heldout), 'heldout.jsonl');
    expect(set.format).toBe('lwz-writing');
    expect(set.rows[5].lengthRange).toEqual(out.heldout[5].length_range);
  });

  it('refuses a context too small for the minimum length', () => {
    expect(() => maxAnswerWords({ ...DEFAULT_LENGTH_BUDGET, contextTokens: 300, reservedTokens: 256 })).toThrow(
      /raise the context \(--context-tokens, or budget\.contextTokens/,
    );
  });
});
