import { jest } from '@jest/globals';
import { runCli } from './cli';
import { UserError } from './errors';

describe('runCli', () => {
  afterEach(() => {
    process.exitCode = undefined;
    jest.restoreAllMocks();
  });

  it('prints a UserError without a stack and exits 1; other errors keep their stack', async () => {
    const printed: unknown[] = [];
    jest.spyOn(console, 'error').mockImplementation((x: unknown) => void printed.push(x));
    await runCli(() => {
      throw new UserError('bad.jsonl:3: field "prompt" must be a string');
    });
    expect(printed).toEqual(['error: bad.jsonl:3: field "prompt" must be a string']);
    expect(process.exitCode).toBe(1);
    const bug = new Error('boom');
    await runCli(async () => Promise.reject(bug));
    expect(printed[1]).toBe(bug);
  });

  it('leaves the exit status alone on success', async () => {
    await runCli(async () => 'done');
    expect(process.exitCode).toBeUndefined();
  });
});
