// The three reports, built from prompts, answers, criteria and a model name full of markup and scripts, are
// loaded in headless Chromium (Debian's /usr/bin/chromium through playwright-core; no browser download):
// nothing runs, no injected element exists, and the markup shows as text. Skips without Chromium; fails
// instead under REQUIRE_BROWSER=1 (.ci/run sets it after installing Chromium). LWZ_SCREENSHOT_DIR, when
// set, receives a screenshot of each report.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { TestLlmServer } from '@lwz/llm-client/testing';
import { startFakeJudge, writeFixture } from './test-fixtures';
import { run as runArena } from './commands/arena';
import { run as runWritingBench } from './commands/writingbench';
import { run as runLongBench } from './commands/longbench-write';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const required = process.env.REQUIRE_BROWSER === '1';

let server: TestLlmServer;
afterAll(async () => server?.close());

it('has a browser when REQUIRE_BROWSER=1', () => {
  if (required) expect(`${CHROMIUM} exists: ${available}`).toBe(`${CHROMIUM} exists: true`);
});

(available ? describe : describe.skip)('reports in headless Chromium', () => {
  it('show injected markup and scripts as text and run nothing', async () => {
    const f = writeFixture({ prompts: 4, hostile: true });
    server = await startFakeJudge();
    const judge = { judgeUrl: server.baseUrl, judgeModel: 'test-model', judgeTimeoutMs: '2000', quiet: true };
    const outs = {
      arena: join(f.dir, 'arena'),
      writingbench: join(f.dir, 'writingbench'),
      'longbench-write': join(f.dir, 'longbench'),
    };
    await runArena({ models: f.models, out: outs.arena, lengthControl: true, ...judge });
    await runWritingBench({ responses: f.wbResponses, queries: f.wbQueries, cQueries: f.wbC, out: outs.writingbench, ...judge });
    await runLongBench({ responses: f.lbResponses, out: outs['longbench-write'], ...judge });

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      for (const [name, out] of Object.entries(outs)) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(pathToFileURL(join(out, 'report.html')).href);
        const seen = await page.evaluate(() => ({
          pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
          scripts: document.scripts.length,
          injected: document.querySelectorAll('img, b, i').length,
          text: document.body.innerText,
          svgs: document.querySelectorAll('svg').length,
        }));
        expect({ name, pwned: seen.pwned, scripts: seen.scripts, injected: seen.injected, errors }).toEqual({
          name,
          pwned: null,
          scripts: 0,
          injected: 0,
          errors: [],
        });
        expect(seen.svgs).toBeGreaterThanOrEqual(2);
        // the page text holds the markup literally (the open drill-down sections show answers and prompts)
        await page.evaluate(() => document.querySelectorAll('details').forEach((d) => d.setAttribute('open', '')));
        const text = await page.evaluate(() => document.body.innerText);
        expect(text).toContain('<script>window.__pwned = 1</script>');
        expect(text).toContain('<b>bold?</b> & "quotes"');
        // a 3,200-character token in prompts and answers wraps inside its cell (it made pages ~40,000 px wide)
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
        if (name === 'arena') expect(text).toContain('<i>weak</i>');
        if (process.env.LWZ_SCREENSHOT_DIR) {
          mkdirSync(process.env.LWZ_SCREENSHOT_DIR, { recursive: true });
          await page.evaluate(() => document.querySelectorAll('details details').forEach((d) => d.removeAttribute('open')));
          await page.screenshot({ path: join(process.env.LWZ_SCREENSHOT_DIR, `${name}.png`), fullPage: true });
        }
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }, 90000);
});
