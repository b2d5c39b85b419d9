import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flagName, mergeConfig, parseConfig, parseOverrides, readConfigFile, z } from './config';
import { redactSecrets } from './errors';
import { allClose } from './testing/all-close';
import { Progress } from './progress';

const schema = z.object({
  name: z.string().default('run'),
  optim: z.object({ lr: z.number().positive().describe('peak learning rate'), steps: z.number().int().min(1) }),
});

describe('config', () => {
  it('fills defaults and validates', () => {
    expect(parseConfig(schema, { optim: { lr: 1e-3, steps: 10 } }, 'test')).toEqual({
      name: 'run',
      optim: { lr: 1e-3, steps: 10 },
    });
  });

  it('names every bad field and the source', () => {
    let message = '';
    try {
      parseConfig(schema, { optim: { lr: -1, steps: 1.5 } }, 'preset tiny.json');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('invalid config from preset tiny.json');
    expect(message).toMatch(/optim\.lr: .*>0/);
    expect(message).toMatch(/optim\.steps: .*int/i);
  });

  it('merges overrides deeply and parses key=value pairs', () => {
    const over = parseOverrides(['optim.lr=0.01', 'name=my run', 'optim.steps=5']);
    expect(over).toEqual({ optim: { lr: 0.01, steps: 5 }, name: 'my run' });
    expect(mergeConfig({ optim: { lr: 1, steps: 2 }, name: 'a' }, { optim: { lr: 3 } })).toEqual({
      optim: { lr: 3, steps: 2 },
      name: 'a',
    });
    expect(() => parseOverrides(['novalue'])).toThrow(/expected key=value/);
    // prototype keys would reach every object of the config (zod reads inherited fields); empty segments are typos
    expect(() => parseOverrides(['__proto__.file=x.jsonl'])).toThrow(/"__proto__" is not a config key/);
    expect(() => parseOverrides(['a.constructor.prototype.x=1'])).toThrow(/"constructor" is not a config key/);
    expect(() => parseOverrides(['optim..lr=1'])).toThrow(/an empty key segment/);
    expect(({} as Record<string, unknown>).file).toBeUndefined();
  });

  it('takes number flags as decimal text only, and names options by their flags', () => {
    const schema = z.object({ port: z.coerce.number().int().min(0).default(8000), topK: z.coerce.number().int().optional() }).strict();
    const failure = (raw: unknown) => {
      try {
        parseConfig(schema, raw, 'serve options', { flags: true });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    // Number() would read these as 0, 0 and 16
    expect(failure({ port: '' })).toMatch(/--port: expected a decimal number, got ""/);
    expect(failure({ topK: ' ' })).toMatch(/--top-k: expected a decimal number, got " "/);
    expect(failure({ port: '0x10' })).toMatch(/--port: expected a decimal number, got "0x10"/);
    expect(failure({ topK: '-1.5' })).toMatch(/--top-k: .*int/i);
    expect(parseConfig(schema, { port: ' 8080 ', topK: '1e2' }, 'serve options')).toEqual({ port: 8080, topK: 100 });
  });

  it('names what zod leaves unsaid: an infinite number, and a number given to a text field', () => {
    const schema = z.object({ name: z.string(), steps: z.number() }).strict();
    const message = (raw: unknown) => {
      try {
        parseConfig(schema, raw, '--set');
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    expect(message(parseOverrides(['name=123', 'steps=1e400']))).toMatch(
      /name: .*\(from --set, quote it to keep it text: name='"123"'\)\n.*steps: .*\(Infinity is not a finite number\)/,
    );
    // a required field left out: zod says "expected string, received undefined"
    expect(message({ steps: 1 })).toBe('invalid config from --set:\n  - name: missing (a string is required)');
  });
});

describe('readConfigFile', () => {
  it('names the line and column of a JSON syntax error that V8 places, and the file always', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-config-'));
    const file = join(dir, 'run.json');
    writeFileSync(file, '{\n  "a": 1,\n  "b" 2\n}\n'); // the 2 is line 3, column 7
    expect(() => readConfigFile(file)).toThrow(`config file ${file} line 3 column 7: Unexpected number in JSON at position 18`);
    writeFileSync(file, '{"a": tru}');
    expect(() => readConfigFile(file)).toThrow(new RegExp(`^config file ${file}: .*not valid JSON`));
    writeFileSync(file, '[1]');
    expect(() => readConfigFile(file)).toThrow(`config file ${file}: the top level must be a JSON object`);
  });
});

describe('redactSecrets', () => {
  it('removes secret values wherever they appear', () => {
    expect(redactSecrets('auth sk-abcdef failed for sk-abcdef', ['sk-abcdef'])).toBe('auth [REDACTED] failed for [REDACTED]');
    expect(redactSecrets('nothing', [undefined, ''])).toBe('nothing');
  });

  it('removes a secret in the forms a JSON body writes it: quotes and backslashes escaped, "/" as "\\/"', () => {
    const key = 'k3y/with"quote\\and/slash';
    const body = JSON.stringify({ a: key, b: `Bearer ${key}` });
    expect(JSON.parse(redactSecrets(body, [key]))).toEqual({ a: '[REDACTED]', b: 'Bearer [REDACTED]' });
    const phpStyle = body.replace(/\//g, '\\/'); // PHP's json_encode escapes every slash
    expect(phpStyle).not.toContain(JSON.stringify(key).slice(1, -1));
    expect(JSON.parse(redactSecrets(phpStyle, [key]))).toEqual({ a: '[REDACTED]', b: 'Bearer [REDACTED]' });
    expect(redactSecrets(`plain ${key}`, [key])).toBe('plain [REDACTED]');
  });
});

describe('allClose', () => {
  it('passes within tolerance and reports diffs and first indices otherwise', () => {
    expect(allClose([1, 2, 3], [1, 2 + 1e-7, 3]).pass).toBe(true);
    const r = allClose([1, 2, 3, 4], [1, 2.5, 3, 5], { atol: 0.1, rtol: 0 });
    expect(r.pass).toBe(false);
    expect(r.mismatches).toBe(2);
    expect(r.maxDiff).toBe(1);
    expect(r.message).toContain('[1] got 2 expected 2.5');
    expect(allClose([NaN], [NaN]).pass).toBe(true);
    expect(allClose([NaN], [1]).pass).toBe(false);
    expect(allClose([1], [1, 2]).message).toMatch(/length mismatch/);
  });

  it('is registered as a jest matcher', () => {
    expect(new Float32Array([1, 2])).toBeAllClose([1, 2.0000001]);
    expect(() => expect([1]).toBeAllClose([2])).toThrow(/max diff/);
  });
});

describe('Progress', () => {
  it('prints periodic plain lines off a TTY, with rate and ETA', () => {
    const out: string[] = [];
    let t = 0;
    const p = new Progress({
      label: 'train',
      total: 10,
      unit: 'step',
      intervalMs: 1000,
      stream: { write: (s: string) => out.push(s) },
      now: () => t,
    });
    t = 500;
    p.tick(1);
    t = 600;
    p.tick(1); // within the interval: no line
    t = 2000;
    p.tick(3, 'loss 2.5');
    expect(out).toHaveLength(2);
    expect(out[1]).toBe('train: 50.0% 5/10 2.5 step/s eta 0m02s loss 2.5\n');
  });

  it('counts resumed units in the fraction but not in the rate', () => {
    const out: string[] = [];
    let t = 0;
    const p = new Progress({
      label: 'run',
      total: 10,
      initial: 6,
      intervalMs: 0,
      stream: { write: (s: string) => out.push(s) },
      now: () => t,
    });
    t = 2000;
    p.tick(2);
    expect(out[0]).toBe('run: 80.0% 8/10 1.0 it/s eta 0m02s\n');
  });

  it('stops the count at the total when a last piece passes it, and prints the finishing line once', () => {
    const out: string[] = [];
    let t = 0;
    const p = new Progress({
      label: 'samples',
      total: 100,
      unit: 'tok',
      intervalMs: 60000,
      stream: { write: (s: string) => out.push(s) },
      now: () => t,
    });
    t = 1000;
    p.tick(60); // the first line
    t = 2000;
    p.tick(70); // passes the total: the finishing line, at once
    t = 3000;
    p.tick(5); // past it: no second finishing line
    expect(out).toEqual(['samples: 60.0% 60/100 60.0 tok/s eta 0m01s\n', 'samples: 100.0% 100/100 50.0 tok/s eta 0m00s\n']);
  });
});

describe('overrides and merging, edge cases', () => {
  it('refuses an override with no key; a dotted key replaces a scalar set before it', () => {
    expect(() => parseOverrides(['=3'])).toThrow('override "=3": expected key=value, for example optim.lr=3e-4');
    expect(parseOverrides(['a=1', 'a.b=2'])).toEqual({ a: { b: 2 } });
  });

  it('mergeConfig replaces arrays whole', () => {
    expect(mergeConfig({ a: [1, 2], o: { x: 1 } }, { a: [3], o: { y: 2 } })).toEqual({ a: [3], o: { x: 1, y: 2 } });
  });

  it('flagName turns every capital into -lowercase', () => {
    expect(flagName('maxNewTokens')).toBe('--max-new-tokens');
  });
});
