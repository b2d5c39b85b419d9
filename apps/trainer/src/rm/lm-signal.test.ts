// lm-signal: a sequence's statistics split the answer tokens (mean and sum of their log-probs) from the end id
// (scored separately), over one forward of the whole sequence; the copy gain reads the right tokens of each copy.
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { initModel, modelPreset } from '@lwz/model';
import { Tokenizer } from '@lwz/tokenizer';
import { pretrainFixture } from '../pretrain/testing';
import { SMALL_MODEL } from '../grpo/testing';
import { copyGain, sequenceStats } from './lm-signal';

const f = pretrainFixture();
const tok = Tokenizer.fromFile(join(f.tokDir, 'tokenizer.json'));
const eot = tok.tokenToId('<|endoftext|>') ?? -1;

describe('lm-signal', () => {
  it('scores the answer tokens after the first (mean, sum) apart from the end id', () => {
    const model = initModel(
      { ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: tok.vocabSize, eosTokenId: eot, bosTokenId: eot },
      new Rng(5),
    );
    const ids = [...tok.encode('the captain watched the storm.', { addSpecialTokens: false }), eot];
    const lp = model.sequenceLogprobs(ids);
    const s = sequenceStats(model, ids);
    const answer = lp.slice(0, ids.length - 2);
    expect(answer.length).toBeGreaterThan(2);
    expect(s.sum).toBeCloseTo(
      answer.reduce((a, b) => a + b, 0),
      4,
    );
    expect(s.mean).toBeCloseTo(s.sum / answer.length, 5);
    expect(s.end).toBeCloseTo(lp[ids.length - 2], 5);
    model.dispose();
  });

  it("copyGain compares the second copy's tokens with the same tokens in the first copy, separator and end left out", () => {
    const model = initModel(
      { ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: tok.vocabSize, eosTokenId: eot, bosTokenId: eot },
      new Rng(6),
    );
    const text = [11, 12, 13, 14, 15, 16];
    const sep = 200;
    const ids = [...text, sep, ...text, eot];
    const lp = model.sequenceLogprobs(ids);
    // the tokens 12..16 of each copy, each predicted from everything before it
    const firstCopy = [1, 2, 3, 4, 5].map((t) => lp[t - 1]);
    const secondCopy = [8, 9, 10, 11, 12].map((t) => lp[t - 1]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(copyGain(model, ids, text.length)).toBeCloseTo(mean(secondCopy) - mean(firstCopy), 5);
    model.dispose();
  });
});
