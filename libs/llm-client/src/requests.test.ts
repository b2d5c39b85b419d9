// The wire translation and message helpers, by hand: a request's own model and the named sampling fields win over
// `extra`, choices come back in index order whatever order the server sent, and what an error shows of a URL and a
// body (origin and path only; 200 characters then "...").
import { completionBody, chatBody, toChatResult, toCompletionResult } from './requests';
import { displayUrl, excerpt } from './errors';

describe('request bodies and results', () => {
  it("sends the request's own model over the config's, and the named fields over the same names in extra", () => {
    expect(completionBody({ prompt: 'p', model: 'judge-2' }, 'cfg-model').model).toBe('judge-2');
    expect(completionBody({ prompt: 'p', n: 2, extra: { n: 5, model: 'x', min_p: 0.1 } }, 'cfg-model')).toEqual({
      model: 'cfg-model',
      n: 2,
      min_p: 0.1,
      prompt: 'p',
    });
    const chat = chatBody({ messages: [{ role: 'user', content: 'hi' }], temperature: 0.8, extra: { temperature: 0 } }, 'm');
    expect(chat).toEqual({ model: 'm', temperature: 0.8, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('returns choices in index order whatever order the server sent them in', () => {
    const completion = toCompletionResult(
      {
        choices: [
          { index: 1, text: 'second', finish_reason: 'stop' },
          { index: 0, text: 'first', finish_reason: 'length' },
        ],
      } as Parameters<typeof toCompletionResult>[0],
      false,
    );
    expect(completion.choices.map((c) => [c.index, c.text, c.finishReason])).toEqual([
      [0, 'first', 'length'],
      [1, 'second', 'stop'],
    ]);
    const chat = toChatResult(
      {
        choices: [
          { index: 2, message: { role: 'assistant', content: 'c' }, finish_reason: 'stop' },
          { index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: 'stop' },
        ],
      } as Parameters<typeof toChatResult>[0],
      true,
    );
    expect([chat.cached, chat.choices.map((c) => c.content)]).toEqual([true, ['a', 'c']]);
  });
});

describe('what errors show', () => {
  it('a URL as origin and path only, a body as its first 200 characters (whitespace collapsed) then "..."', () => {
    expect(displayUrl('http://user:pw@10.0.0.1:8000/v1/chat/completions?api-key=s3cret#x')).toBe(
      'http://10.0.0.1:8000/v1/chat/completions',
    );
    expect(excerpt('a'.repeat(300), [])).toBe(`${'a'.repeat(200)}...`);
    expect(excerpt(`  ${'b'.repeat(100)}\n\n  ${'c'.repeat(99)} `, [])).toBe(`${'b'.repeat(100)} ${'c'.repeat(99)}`); // 200 exactly: no "..."
  });
});
