// The format reward: every structural violation gives 0 (table), a clean completion gives 1 - penalty; the
// repetition penalty stays near 0 on natural prose from the corpus and grows when an answer is padded with
// copied paragraphs or looping sentences; the measures against hand-counted texts.
import { countWords } from '@lwz/tokenizer';
import { mobyDickChapters, sotuAddresses } from '../testing/natural-prose';
import { formatReward, formatRewards } from './format-reward';
import { type RepetitionOptions, duplicatedNgramShare, measureRepetition, paragraphOverlaps, ramp, splitParagraphs } from './repetition';

const opts: RepetitionOptions = {
  ngram: 4,
  paragraphNgram: 3,
  minParagraphWords: 8,
  nearDuplicate: 0.5,
  ngramFree: 0.1,
  ngramFull: 0.4,
  paragraphFree: 0,
  paragraphFull: 0.3,
};
const text = 'The ship left the harbour at dawn, and the crew watched the town grow small behind them.';

describe('format reward: structure', () => {
  it('is 1 for a clean think completion and a clean direct completion', () => {
    const think = formatReward(`<think>plan</think>\n<answer>${text}</answer><|im_end|>`, 'think', opts);
    expect(think).toMatchObject({ reward: 1, verdict: { valid: true, codes: [], violations: [] }, answer: text, think: 'plan' });
    expect(formatReward(`<answer>${text}</answer>`, 'direct', opts).reward).toBe(1);
  });

  it('accepts an empty think block (the structure is right)', () => {
    expect(formatReward(`<think></think><answer>${text}</answer>`, 'think', opts).reward).toBe(1);
  });

  it.each([
    ['no think block', `<answer>${text}</answer>`, 'think', 'tag-count'],
    ['two think blocks', `<think>a</think><think>b</think><answer>${text}</answer>`, 'think', 'tag-count'],
    ['two answer blocks', `<think>p</think><answer>${text}</answer><answer>more</answer>`, 'think', 'tag-count'],
    ['unclosed think', `<think>p <answer>${text}</answer>`, 'think', 'think-not-closed'],
    ['text before', `Sure! <think>p</think><answer>${text}</answer>`, 'think', 'text-before'],
    ['text between', `<think>p</think> ok <answer>${text}</answer>`, 'think', 'text-between'],
    ['answer inside think', `<think>p <answer>${text}</answer></think>`, 'think', 'answer-before-think-close'],
    ['answer cut at the length cap', `<think>p</think><answer>${text}`, 'think', 'answer-not-closed'],
    ['empty answer', '<think>p</think><answer>  </answer>', 'think', 'answer-empty'],
    ['text after', `<think>p</think><answer>${text}</answer> P.S. bye`, 'think', 'text-after'],
    ['think block in the direct template', `<think>p</think><answer>${text}</answer>`, 'direct', 'tag-count'],
    ['no answer block at all', text, 'direct', 'tag-count'],
  ] as const)('%s -> 0 (%s)', (_, completion, template, code) => {
    const r = formatReward(completion, template, opts);
    expect(r.reward).toBe(0);
    expect(r.verdict.valid).toBe(false);
    expect(r.verdict.codes).toContain(code);
    expect(r.verdict.violations.length).toBe(r.verdict.codes.length);
  });

  it('measures repetition on the answer only: a repeated plan costs nothing, and no answer block is no answer', () => {
    const para = 'alpha bravo charlie delta echo foxtrot golf hotel';
    const plan = [para, para, para].join('\n\n');
    const r = formatReward(`<think>${plan}</think><answer>${text}</answer>`, 'think', opts);
    expect(r.reward).toBe(1);
    expect(r.repetition.penalty).toBe(0);
    const none = formatReward(plan, 'direct', opts);
    expect(none.answer).toBe('');
    expect(none.repetition).toEqual({ ngramDup: 0, duplicateParagraphShare: 0, maxParagraphOverlap: 0, penalty: 0 });
  });

  it('batches', () => {
    const rs = formatRewards([`<answer>${text}</answer>`, `<answer>${text}`], 'direct', opts);
    expect(rs.map((r) => r.reward)).toEqual([1, 0]);
  });
});

describe('repetition measures', () => {
  it('count duplicated n-grams and near-duplicate paragraphs by hand', () => {
    // 4-grams of "a b c d a b c d": abcd bcda cdab dabc abcd -> 1 repeat of 5
    expect(duplicatedNgramShare('a b c d a b c d'.split(' '), 4)).toBeCloseTo(1 / 5, 12);
    expect(duplicatedNgramShare(['a', 'b'], 4)).toBe(0);
    expect(ramp(0.05, 0.1, 0.4)).toBe(0);
    expect(ramp(0.25, 0.1, 0.4)).toBeCloseTo(0.5, 12);
    expect(ramp(0.9, 0.1, 0.4)).toBe(1);
    expect(splitParagraphs('a\n\n b \n  \nc')).toEqual(['a', 'b', 'c']);
    expect(splitParagraphs('line one\nline two')).toEqual(['line one', 'line two']);
    const p = 'one two three four five six seven eight'.split(' ');
    const q = 'one two three four five six nine ten'.split(' ');
    // 3-gram sets: 6 each, 4 shared -> Jaccard 4 / 8
    expect(paragraphOverlaps([p, q], opts)).toEqual({ duplicateWords: 8, max: 0.5 });
    expect(paragraphOverlaps([p, q.slice(0, 7)], opts).max).toBe(0);
    // one shared 3-gram of 6 + 6: Jaccard 1 / 11, below nearDuplicate, still the reported max
    const r = 'one two three nine ten eleven twelve thirteen'.split(' ');
    const overlap = paragraphOverlaps([p, r], opts);
    expect(overlap.duplicateWords).toBe(0);
    expect(overlap.max).toBeCloseTo(1 / 11, 12);
    // case does not hide a repeat: 8 words, 5 4-grams, 1 repeated
    expect(measureRepetition('Alpha Bravo charlie delta alpha bravo Charlie delta', opts).ngramDup).toBeCloseTo(1 / 5, 12);
  });

  it('add the two parts of the penalty and cap the sum at 1, so the format reward never goes below 0', () => {
    // a paragraph of 8 distinct words and its copy: 16 words, 13 4-grams of which 5 repeat (the copy's first five);
    // the copy is a near-duplicate paragraph of 8 words, 8 / 16 of the answer
    const para = 'alpha bravo charlie delta echo foxtrot golf hotel';
    const text = `${para}\n\n${para}`;
    const linear = { ...opts, ngramFree: 0, ngramFull: 1, paragraphFree: 0, paragraphFull: 1 };
    const m = measureRepetition(text, linear);
    expect(m.ngramDup).toBeCloseTo(5 / 13, 12);
    expect(m.duplicateParagraphShare).toBeCloseTo(8 / 16, 12);
    expect(m.penalty).toBeCloseTo(5 / 13 + 8 / 16, 12);
    // steeper: 5 / 13 + 0.5 / 0.6 > 1
    const steep = { ...linear, paragraphFull: 0.6 };
    expect(measureRepetition(text, steep).penalty).toBe(1);
    expect(formatReward(`<answer>${text}</answer>`, 'direct', steep).reward).toBe(0);
  });

  it('stay near 0 on natural prose from the corpus', () => {
    const texts = [...mobyDickChapters(30), ...sotuAddresses(25)];
    expect(texts.length).toBeGreaterThan(35);
    const measured = texts.map((t) => ({ start: t.slice(0, 40), ...measureRepetition(t, opts) }));
    expect(measured.filter((m) => m.penalty >= 0.05 || m.ngramDup >= opts.ngramFree)).toEqual([]);
    expect(measured.filter((m) => m.penalty > 0).length).toBeLessThanOrEqual(2);
  });

  it('padding an answer with a copied paragraph lowers the format reward by over 3x the share copied, more copies more', () => {
    // the length reward gains at most the copied share (L / lo below the target), so padding never pays
    for (const chapter of mobyDickChapters(12)) {
      const paras = splitParagraphs(chapter);
      const median = [...paras].sort((a, b) => countWords(a) - countWords(b))[Math.floor(paras.length / 2)];
      const reward = (ps: string[]) => formatReward(`<think>plan</think><answer>${ps.join('\n\n')}</answer>`, 'think', opts).reward;
      const clean = reward(paras);
      const once = reward([...paras, median]);
      const twice = reward([...paras, median, median]);
      const share = countWords(median) / (countWords(chapter) + countWords(median));
      expect(clean).toBeGreaterThan(0.95);
      expect(clean - once).toBeGreaterThanOrEqual(Math.min(clean, 3 * share));
      expect(twice).toBeLessThanOrEqual(once);
      if (once > 0) expect(twice).toBeLessThan(once);
    }
  });

  it('catches the copy in every layout: single-newline paragraphs under a title and one blank line, and zero-width characters inside the copy', () => {
    // found by a review: with one blank line after a title, the paragraphs below it were one block, so the copy cost nothing
    for (const chapter of mobyDickChapters(6)) {
      const paras = splitParagraphs(chapter);
      const median = [...paras].sort((a, b) => countWords(a) - countWords(b))[Math.floor(paras.length / 2)];
      const blank = measureRepetition(`CHAPTER ONE\n\n${[...paras, median].join('\n\n')}`, opts).penalty;
      const titled = (ps: string[]) => measureRepetition(`CHAPTER ONE\n\n${ps.join('\n')}`, opts).penalty;
      expect(titled(paras)).toBeLessThan(0.05);
      expect(blank).toBeGreaterThan(0);
      expect(titled([...paras, median])).toBeCloseTo(blank, 9);
      // the reported overlap comes from the line layout too: the copy overlaps its original fully
      expect(measureRepetition(`CHAPTER ONE\n\n${[...paras, paras[0]].join('\n')}`, opts).maxParagraphOverlap).toBe(1);
      // a zero-width space inside every third word of the copy: the same words to a reader, and to the measures
      const hidden = median.replace(/\b(\w)(\w+)\b/g, (w, a: string, b: string, offset: number) =>
        offset % 3 === 0 ? `${a}\u200b${b}` : w,
      );
      expect(hidden).not.toBe(median);
      expect(measureRepetition(`CHAPTER ONE\n\n${[...paras, hidden].join('\n\n')}`, opts).penalty).toBeCloseTo(blank, 9);
    }
  });

  it('catches a reworded copy and sentences looped inside one paragraph', () => {
    const [first] = splitParagraphs(mobyDickChapters(1)[0]);
    const reworded = first.replace(/\bthe\b/g, 'a').replace(/\bI\b/g, 'one');
    expect(measureRepetition(`${first}\n\n${reworded}`, opts).duplicateParagraphShare).toBeGreaterThan(0.4);
    const sentence = 'The whale rose from the deep and the men cheered loudly. ';
    expect(measureRepetition(`${first} ${sentence.repeat(12)}`, opts).penalty).toBeGreaterThan(0.5);
  });

  it('scores an answer of only a few words without failing', () => {
    expect(measureRepetition('Yes.', opts)).toEqual({ ngramDup: 0, duplicateParagraphShare: 0, maxParagraphOverlap: 0, penalty: 0 });
    expect(measureRepetition('', opts).penalty).toBe(0);
  });
});
