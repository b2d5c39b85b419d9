// The preference pairs: every corruption does what its name says, keeps the rejected text about as long as
// the chosen one (so "longer wins" cannot be learnt), and a pair is a pure function of (seed, index).
import { Rng } from '@lwz/core';
import { countWords } from '@lwz/tokenizer';
import {
  CORRUPTIONS,
  firstPerType,
  heldoutPairs,
  makePair,
  policyText,
  ruleBaselines,
  streamBatch,
  wholeSentences,
  type Corruption,
  type PreferencePair,
} from './pairs';

function must<T>(x: T | null | undefined): T {
  if (x === null || x === undefined) throw new Error('expected a value');
  return x;
}

const WORDS = ['harbour', 'storm', 'island', 'captain', 'whale', 'crew', 'light', 'water', 'ship', 'morning', 'deck', 'sail'];
/** documents of distinct sentences ("Sentence 12 of document 3 ..."), so sentence identity is checkable */
function docs(n: number): string[][] {
  const rng = new Rng(5);
  return Array.from({ length: n }, (_, d) =>
    Array.from({ length: 60 }, (_, i) => `Sentence ${i} of document ${d} saw the ${rng.pick(WORDS)} near the ${rng.pick(WORDS)}. `),
  );
}
const OPTS = { words: [40, 120] as const, dropShare: 0.2 };
const sentences = (t: string) => t.match(/Sentence \d+ of document \d+[^.]*\./g) ?? [];

describe('preference pairs', () => {
  const corpus = docs(4);
  const corpusSentences = new Set(corpus.flat().map((x) => x.trim()));
  const policy = ['the the the whale whale', 'A short answer the policy wrote about the sea and the ship at night.'];

  it.each(CORRUPTIONS.map((t) => [t]))('%s: deterministic, rejected differs, length within a sentence', (type) => {
    for (let i = 0; i < 20; i++) {
      const p = must(makePair(corpus, 9, i, [type as Corruption], OPTS, policy));
      expect(p).not.toBeNull();
      expect(makePair(corpus, 9, i, [type as Corruption], OPTS, policy)).toEqual(p);
      expect(p.type).toBe(type);
      expect(p.rejected).not.toBe(p.chosen);
      const c = countWords(p.chosen);
      // at least lo, less a trailing partial sentence; a policy pair's real passage is sized to the answer instead
      if (type !== 'policy') expect(c).toBeGreaterThanOrEqual(OPTS.words[0] - 15);
      expect(p.chosen.trim()).toMatch(/[.!?]$/); // a real passage always ends a sentence
      expect(Math.abs(countWords(p.rejected) - c)).toBeLessThanOrEqual(Math.max(12, 0.25 * c));
    }
  });

  it('shuffle keeps the sentences and changes their order; repeat writes the first half twice', () => {
    for (let i = 0; i < 10; i++) {
      const s = must(makePair(corpus, 1, i, ['shuffle'], OPTS));
      expect([...sentences(s.rejected)].sort()).toEqual([...sentences(s.chosen)].sort());
      expect(sentences(s.rejected)).not.toEqual(sentences(s.chosen));
      const r = must(makePair(corpus, 1, i, ['repeat'], OPTS));
      const [a, b] = r.rejected.split('\n\n');
      expect(a).toBe(b);
      expect(sentences(r.chosen).slice(0, sentences(a).length)).toEqual(sentences(a));
    }
  });

  it('cut ends mid-sentence; splice mixes two documents; drop removes words; policy rejects a policy answer', () => {
    for (let i = 0; i < 10; i++) {
      const c = must(makePair(corpus, 2, i, ['cut'], OPTS));
      expect(c.chosen.trim()).toMatch(/\.$/);
      expect(c.rejected.trim()).not.toMatch(/[.!?]$/);
      expect(c.rejected.startsWith(c.chosen.split('\n\n')[0])).toBe(true);
      // the unfinished side is the longer one in about half the pairs, the shorter in the rest (counted below)
      expect(countWords(c.rejected)).not.toBe(countWords(c.chosen));
      const sp = must(makePair(corpus, 2, i, ['splice'], OPTS));
      const docOf = (t: string) => new Set([...t.matchAll(/of document (\d+)/g)].map((m) => m[1]));
      expect(docOf(sp.chosen).size).toBe(1);
      expect(docOf(sp.rejected).size).toBe(2); // the partner is always another document
      // the rejected side opens with the chosen passage's first sentence, then leaves it
      expect(sentences(sp.rejected)[0]).toBe(sentences(sp.chosen)[0]);
      expect(sentences(sp.rejected).some((x) => !sp.chosen.includes(x))).toBe(true);
      const d = must(makePair(corpus, 2, i, ['drop'], OPTS));
      // words went missing: some sentence of the rejected side is no sentence of the corpus
      const pieces = d.rejected.split(/(?<=\.)\s+/).map((x) => x.trim());
      expect(pieces.some((x) => !corpusSentences.has(x))).toBe(true);
      const p = must(makePair(corpus, 2, i, ['policy'], OPTS, policy));
      expect(policy).toContain(p.rejected);
    }
    expect(() => makePair(corpus, 2, 0, ['policy'], OPTS)).toThrow(/policy answers/);
  });

  it('only the corruption differs: no side ends unfinished but a cut one, and "longer wins" stays near chance', () => {
    const finished = (t: string) => /[.!?]["')\]]*$/.test(t.trim());
    const types: Corruption[] = ['shuffle', 'repeat', 'splice', 'drop', 'policy'];
    const cleaned = policy.flatMap((a) => policyText(a) ?? []); // as train-rm keeps the sampled answers
    const pairs = heldoutPairs(docs(8), 21, 40, types, OPTS, cleaned);
    for (const p of pairs) expect([p.type, finished(p.chosen), finished(p.rejected)]).toEqual([p.type, true, true]);
    // per type, the share of pairs the longer side wins (ties half): repeat and splice ran 65 % / 73 % before, cut 0 %
    const rules = ruleBaselines([...pairs, ...heldoutPairs(docs(8), 21, 40, ['cut'], OPTS)]);
    expect(must(rules.cut).longer).toBeGreaterThan(0.3);
    expect(must(rules.cut).longer).toBeLessThan(0.7);
    expect(must(rules.cut).ending).toBe(1); // the finished side always wins by its ending: what cut pairs teach
    for (const t of ['shuffle', 'repeat', 'splice', 'drop'] as const) {
      expect(must(rules[t]).pairs).toBeGreaterThanOrEqual(30);
      expect(must(rules[t]).longer).toBeGreaterThan(0.3);
      expect(must(rules[t]).longer).toBeLessThan(0.7);
      expect(must(rules[t]).ending).toBe(0.5); // both sides end a sentence
    }
  });

  it('wholeSentences stops at the last sentence end with its closing quote; policyText keeps the writing only', () => {
    expect(wholeSentences("We are victims of our own success. We'")).toBe('We are victims of our own success.');
    expect(wholeSentences('He said "stop." Then')).toBe('He said "stop."');
    expect(wholeSentences('the "contract surgeons"')).toBeNull();
    expect(policyText('<think>\nA tone.<|im_end|>')).toBeNull(); // its only sentence was the plan
    expect(policyText('<think>plan it.</think>\n<answer>The sea was calm. The ship sailed on and')).toBe('The sea was calm.');
    expect(policyText('The whale rose. It dove.<|im_end|>')).toBe('The whale rose. It dove.');
  });

  it('rejectedBreak is where the rejected text stops being a real passage read from its start', () => {
    const id = (x: string) =>
      must(x.match(/Sentence (\d+) of document (\d+)/))
        .slice(1)
        .map(Number);
    const norm = (t: string) => t.replace(/\s+/g, ' ').trim();
    const docText = corpus.map((d) => norm(d.join(' ')));
    for (let i = 0; i < 10; i++) {
      const at = (type: Corruption) => {
        const p = must(makePair(corpus, 3, i, [type], OPTS, policy));
        return { p, head: p.rejected.slice(0, p.rejectedBreak), rest: p.rejected.slice(p.rejectedBreak) };
      };
      // shuffle: consecutive sentences up to the break, then one that does not follow the last of them
      const sh = at('shuffle');
      const ids = sentences(sh.head).map(id);
      expect(ids.length).toBeGreaterThan(0);
      for (let k = 1; k < ids.length; k++) expect(ids[k]).toEqual([ids[k - 1][0] + 1, ids[k - 1][1]]);
      expect(id(must(sentences(sh.rest)[0]))[0]).not.toBe(ids[ids.length - 1][0] + 1);
      // repeat: the break opens the second copy
      const rp = at('repeat');
      expect(rp.rest).toBe(rp.head.replace(/\n\n$/, ''));
      // splice: the chosen passage's opening up to the break, the other document from it on
      const sp = at('splice');
      expect(sp.p.chosen.startsWith(sp.head.split('\n\n')[0])).toBe(true);
      for (const x of sentences(sp.head)) expect(sp.p.chosen).toContain(x);
      expect(sp.p.chosen).not.toContain(must(sentences(sp.rest)[0]));
      // drop: the words before the break are one unbroken run of a document; the next word follows a gap
      const dr = at('drop');
      expect(dr.p.rejectedBreak === 0 || /\s/.test(dr.p.rejected[dr.p.rejectedBreak - 1])).toBe(true);
      expect(docText.some((t) => t.includes(norm(dr.head)))).toBe(true);
      if (dr.head.trim()) expect(docText.some((t) => t.includes(norm(dr.head + dr.rest.split(/\s/)[0])))).toBe(false);
      // cut: every prefix is real text, only the end is not; a policy answer is not real from its start
      expect(at('cut').p.rejectedBreak).toBe(at('cut').p.rejected.length);
      expect(at('policy').p.rejectedBreak).toBe(0);
    }
  });

  it('held-out pairs cover every asked type from their own documents', () => {
    const val = docs(6).slice(4);
    const pairs = heldoutPairs(val, 4, 5, ['shuffle', 'cut', 'policy'], OPTS, policy);
    expect(pairs).toHaveLength(15);
    const counts = Object.fromEntries(['shuffle', 'cut', 'policy'].map((t) => [t, pairs.filter((p) => p.type === t).length]));
    expect(counts).toEqual({ shuffle: 5, cut: 5, policy: 5 });
    for (const p of pairs) expect(p.chosen).toMatch(/of document [45] /);
  });

  it("a training step's batch is its own stretch of the stream: perStep pairs from index step * perStep * 4 on", () => {
    const types = ['shuffle', 'cut', 'drop'] as const;
    const b3 = streamBatch(corpus, 7, 3, 5, types, OPTS);
    expect(b3).toHaveLength(5);
    const direct = Array.from({ length: 20 }, (_, k) => makePair(corpus, 7, 3 * 5 * 4 + k, types, OPTS)).filter(
      (p): p is PreferencePair => p !== null,
    );
    expect(b3).toEqual(direct.slice(0, 5));
    expect(streamBatch(corpus, 7, 4, 5, types, OPTS)).not.toEqual(b3);
  });

  it('firstPerType keeps the first pairs of each type in batch order and stops once every type is full', () => {
    const mk = (type: Corruption, i: number): PreferencePair => ({ type, chosen: `c${i}`, rejected: `r${i}`, rejectedBreak: 0 });
    const batches = [[mk('cut', 0), mk('cut', 1), mk('drop', 2)], [mk('cut', 3), mk('shuffle', 4), mk('drop', 5)], [mk('drop', 6)]];
    let pulled = 0;
    function* gen() {
      for (const b of batches) {
        pulled += 1;
        yield b;
      }
    }
    const got = firstPerType(gen(), 2, ['cut', 'drop']);
    expect(got.map((p) => p.chosen)).toEqual(['c0', 'c1', 'c2', 'c5']);
    expect(pulled).toBe(2); // full after the second batch: the third is never drawn
    expect(firstPerType(batches, 5, ['shuffle']).map((p) => p.chosen)).toEqual(['c4']); // short when the batches run out
  });
});
