// The Credentials view in Debian's Chromium against `stepwise serve`: a credential added in the UI
// is listed by name and source, and its value appears nowhere on the page afterwards.
import { readdirSync, readFileSync } from 'node:fs';
import type { Browser } from '@playwright/test';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, startServe, type ServedProcess } from '../support/browser.js';
import { tempDir } from '../support/harness.js';

const VALUE = 'sk_test_e2eValueNeverShown42';
const dir = tempDir('stepwise-e2e-creds-');
let served: ServedProcess;
let browser: Browser;

beforeAll(async () => {
  served = await startServe(dir.db);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  dir.cleanup();
});

it('adds a credential in the Credentials view and lists it without its value', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(served.url);
    await page.getByTestId('open-credentials').click();
    await page.getByTestId('credentials-empty').waitFor();
    await page.getByTestId('credential-name').fill('stripe');
    await page.getByTestId('credential-value').fill(VALUE);
    await page.getByTestId('credential-save').click();
    const row = page.locator('[data-testid="credential-row"][data-name="stripe"]');
    await row.waitFor();
    expect(await row.textContent()).toMatch(/stripe\s*file/);
    expect(await page.getByTestId('credential-value').inputValue()).toBe('');
    expect(await page.content()).not.toContain(VALUE);
    // Reloaded from the engine: still listed, still no value.
    await page.reload();
    await page.locator('[data-testid="credential-row"][data-name="stripe"]').waitFor();
    expect(await page.content()).not.toContain(VALUE);
    const files = readdirSync(dir.path).filter((file) => file !== 'credentials.json');
    for (const file of files) expect(readFileSync(`${dir.path}/${file}`).includes(Buffer.from(VALUE))).toBe(false);
    expect(readFileSync(`${dir.path}/credentials.json`, 'utf8')).toContain(VALUE);
  } finally {
    await context.close();
  }
});
