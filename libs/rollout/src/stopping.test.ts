// Stopping criteria against brute force: text arrives in random pieces and the stop string found after each
// piece must be the earliest occurrence, in the whole text so far, of any stop string (searched from 0, not
// from a window), the hold-back must be the longest proper prefix of a stop string ending the text, and the
// criteria's order decides a token that is both a stop token and the last allowed one.
import { Rng } from '@lwz/core';
import { StopStringCriterion, StoppingCriteria, type Finish } from './stopping';

/** The earliest occurrence of any stop in `text` (the first listed wins a tie), or null. */
function earliest(text: string, stops: readonly string[]): { stop: string; at: number } | null {
  let best: { stop: string; at: number } | null = null;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (best === null || at < best.at)) best = { stop, at };
  }
  return best;
}

/** The longest k < stop.length, over all stops, such that `text` ends with stop[0, k). */
function longestHold(text: string, stops: readonly string[]): number {
  let hold = 0;
  for (const stop of stops) for (let k = 1; k < stop.length; k++) if (text.endsWith(stop.slice(0, k))) hold = Math.max(hold, k);
  return hold;
}

const STOP_SETS = [['</answer>'], ['ab', 'b>', '</a>'], ['aab', 'ba', '<'], ['</answer>', '<|im_end|>', 'wer>']];

describe('StopStringCriterion', () => {
  it('finds the earliest stop string however the text is split into pieces (random texts)', () => {
    const rng = new Rng(4);
    const alphabet = ['a', 'b', '<', '/', '>', 'n', 's', 'w', 'e', 'r', '|', 'x'];
    for (let trial = 0; trial < 400; trial++) {
      const stops = STOP_SETS[trial % STOP_SETS.length];
      const criterion = new StopStringCriterion(stops);
      const text = Array.from({ length: 1 + rng.int(30) }, () => alphabet[rng.int(alphabet.length)]).join('');
      let so = '';
      let got: Finish | null = null;
      let want: { stop: string; at: number } | null = null;
      for (let i = 0; i < text.length && !got && !want; ) {
        const piece = text.slice(i, i + 1 + rng.int(4));
        i += piece.length;
        const from = so.length;
        so += piece;
        got = criterion.check({ tokenIds: [], text: so, newTextFrom: from });
        want = earliest(so, stops);
        if (!got && !want) expect({ trial, so, hold: criterion.holdBack(so) }).toEqual({ trial, so, hold: longestHold(so, stops) });
      }
      const expected = want && { reason: 'stop', stop: want.stop, matchStart: want.at, matchEnd: want.at + want.stop.length };
      expect({ trial, stops, so, got }).toEqual({ trial, stops, so, got: expected });
    }
  });

  it('finds a stop string whose last character alone is the new text, and the earliest of two in one piece', () => {
    const c = new StopStringCriterion(['</answer>']);
    expect(c.check({ tokenIds: [], text: 'hi</answer>', newTextFrom: 10 })).toEqual({
      reason: 'stop',
      stop: '</answer>',
      matchStart: 2,
      matchEnd: 11,
    });
    const two = new StopStringCriterion(['wer>', '</answer>']);
    expect(two.check({ tokenIds: [], text: 'hi</answer>', newTextFrom: 2 })).toEqual({
      reason: 'stop',
      stop: '</answer>',
      matchStart: 2,
      matchEnd: 11,
    });
  });

  it('holds back the longest proper prefix of any stop, never a whole stop string', () => {
    const c = new StopStringCriterion(['</answer>', 'wer>']);
    expect(c.holdBack('the </answ')).toBe(6);
    expect(c.holdBack('the </answe')).toBe(7); // '</answe' (7), not the 2 of 'we' from 'wer>'
    expect(c.holdBack('done </answer>')).toBe(0);
    expect(new StopStringCriterion(['ab', 'b']).holdBack('xab')).toBe(0);
  });
});

describe('StoppingCriteria', () => {
  it('a stop token that is also the last allowed token finishes as stop, with the token id', () => {
    const criteria = new StoppingCriteria({ stopTokenIds: [7], stop: [], maxNewTokens: 2 });
    expect(criteria.check({ tokenIds: [5], text: 'a', newTextFrom: 0 })).toBeNull();
    expect(criteria.check({ tokenIds: [5, 7], text: 'ab', newTextFrom: 1 })).toEqual({ reason: 'stop', stop: 7 });
    expect(criteria.check({ tokenIds: [5, 6], text: 'ab', newTextFrom: 1 })).toEqual({ reason: 'length' });
    // only the newest token counts: an earlier stop id (an ignored one) does not end the answer
    expect(criteria.check({ tokenIds: [7, 5], text: 'ab', newTextFrom: 1 })).toEqual({ reason: 'length' });
  });
});
