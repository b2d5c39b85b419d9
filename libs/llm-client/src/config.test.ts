import { UserError } from '@lwz/core';
import { looksLikeApiKey, maskSecrets, parseLlmClientConfig, resolveApiKey } from './config';

describe('client config', () => {
  it('fills the documented defaults and strips trailing slashes', () => {
    const c = parseLlmClientConfig({ baseUrls: ['http://127.0.0.1:8000/v1/'], model: 'm' });
    expect(c).toEqual({
      baseUrls: ['http://127.0.0.1:8000/v1'],
      model: 'm',
      id: 'default',
      timeoutMs: 600_000,
      maxRetries: 5,
      backoffBaseMs: 500,
      backoffMaxMs: 30_000,
      maxRetryAfterMs: 60_000,
      concurrency: 8,
    });
  });

  it('takes one URL or a comma-separated list as a string (CLI flags)', () => {
    expect(parseLlmClientConfig({ baseUrls: 'http://a:1/v1', model: 'm' }).baseUrls).toEqual(['http://a:1/v1']);
    expect(parseLlmClientConfig({ baseUrls: 'http://a:1/v1, http://b:2/v1', model: 'm' }).baseUrls).toEqual([
      'http://a:1/v1',
      'http://b:2/v1',
    ]);
  });

  it('names every bad field and how to fix it', () => {
    let message = '';
    try {
      parseLlmClientConfig({ baseUrls: ['localhost:8000'], model: '', concurrency: 0 }, 'judge.json');
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      message = (e as Error).message;
    }
    expect(message).toContain('judge.json');
    expect(message).toMatch(/baseUrls\.0: expected an http\(s\) URL .*\/v1/);
    expect(message).toMatch(/model: name the served model/);
    expect(message).toMatch(/concurrency:/);
  });

  it('says which fields are missing and what to give (a judge named without its server)', () => {
    expect(() => parseLlmClientConfig({}, 'quality.options')).toThrow(
      'invalid config from quality.options:\n' +
        '  - baseUrls: missing: give the server base URL(s) up to /v1, e.g. "http://127.0.0.1:8000/v1"\n' +
        '  - model: missing: name the served model (GET <baseUrl>/models lists them)',
    );
  });

  it.each([
    ['user:password@', 'http://user:sk-secret-123@host:8000/v1'],
    ['a query (Azure-style api-key)', 'https://x.openai.azure.com/v1?api-version=2024-06-01&api-key=sk-secret-123'],
    ['a fragment', 'http://host:8000/v1#sk-secret-123'],
  ])('refuses a base URL with %s, without repeating it', (_, url) => {
    let message = '';
    try {
      parseLlmClientConfig({ baseUrls: [url], model: 'm' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/cannot hold user:password@, a \?query or a #fragment/);
    expect(message).not.toContain('sk-secret-123');
  });

  it('refuses a key in apiKeyEnv without repeating it', () => {
    const key = 'sk-live-0123456789abcdef';
    let message = '';
    try {
      parseLlmClientConfig({ baseUrls: ['http://h/v1'], model: 'm', apiKeyEnv: key });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/looks like an API key itself/);
    expect(message).not.toContain(key);
    expect(() => parseLlmClientConfig({ baseUrls: ['http://h/v1'], model: 'm', apiKeyEnv: 'MY KEY' })).toThrow(/environment variable name/);
    // keys without a known prefix, which pass as variable names, are refused and not echoed either
    for (const bare of ['Xq7bT2mK9pL4vR8sN3wY6zA1cD5fG0hJ', '3f9a0c1d2e4b5a6978877665544332211']) {
      expect(looksLikeApiKey(bare)).toBe(true);
      expect(() => parseLlmClientConfig({ baseUrls: ['http://h/v1'], model: 'm', apiKeyEnv: bare })).toThrow(
        expect.objectContaining({ message: expect.not.stringContaining(bare) }),
      );
    }
    for (const name of ['OPENAI_API_KEY', 'DEEPSEEK_API_KEY', 'MyJudgeKey', 'JUDGE_KEY_2024']) expect(looksLikeApiKey(name)).toBe(false);
  });

  it('masks URL passwords and key-like apiKeyEnv values in a config dump', () => {
    const cfg = {
      rollout: { url: ['http://user:sk-pass1234@h:8000/v1', 'http://h2/v1'] },
      judge: { apiKeyEnv: 'sk-live-0123456789abcdef' },
      keep: 'OPENAI_API_KEY',
    };
    const dump = JSON.stringify(maskSecrets(cfg));
    expect(dump).not.toMatch(/sk-pass1234|sk-live/);
    expect(maskSecrets(cfg)).toEqual({
      rollout: { url: ['http://***@h:8000/v1', 'http://h2/v1'] },
      judge: { apiKeyEnv: '[REDACTED]' },
      keep: 'OPENAI_API_KEY',
    });
    expect(cfg.judge.apiKeyEnv).toBe('sk-live-0123456789abcdef'); // a copy: the config itself is untouched
  });

  it('reads the key from the named variable and says how to fix a missing one', () => {
    expect(resolveApiKey({ apiKeyEnv: 'JUDGE_KEY' }, { JUDGE_KEY: 'abc123' })).toBe('abc123');
    expect(resolveApiKey({}, { JUDGE_KEY: 'abc123' })).toBeUndefined();
    expect(() => resolveApiKey({ apiKeyEnv: 'JUDGE_KEY' }, {})).toThrow(/JUDGE_KEY, which is not set: export JUDGE_KEY=/);
  });
});
