// chunkRows: how many rows of logits the LM head holds at once under the logit budget (values worked by hand).
import { chunkRows } from './head';

describe('chunkRows', () => {
  it('takes floor(budget / vocab) rows, at least one and at most all of them', () => {
    expect(chunkRows(100, 30, 100)).toBe(3); // 100 / 30 = 3.33: 4 rows would hold 120 logits, over the budget
    expect(chunkRows(10, 100, 50)).toBe(1); // a budget below one row still makes progress
    expect(chunkRows(2, 30, 1000)).toBe(2);
  });
});
