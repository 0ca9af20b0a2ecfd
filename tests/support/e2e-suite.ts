// The set-up every e2e file shares, as vitest hooks (apart from browser.ts, which benches run
// outside vitest also use).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { afterAll, afterEach, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { EngineClient, WebSocketConnection, type EngineApi } from '../../engine/api/index.js';
import { launchChromium, startServe, type ServedProcess } from './browser.js';
import { ROOT, tempDir } from './harness.js';

/** What one e2e file shares: a served engine on a fresh database, Chromium, and an API client. */
export interface ServedApp {
  served: ServedProcess;
  browser: Browser;
  client: EngineClient;
  api: EngineApi;
}

/**
 * Registers the hooks of an e2e file: `stepwise serve` on a database of its own, Chromium and an
 * EngineClient over the WebSocket before all tests; the browser contexts a test opened (push them
 * to `contexts`) closed after each; everything stopped and removed after all. `shots` is where
 * screenshots go (docs/images with STEPWISE_SCREENSHOTS=1). `app()` is valid once the hooks ran.
 */
export function servedAppSuite(prefix: string): {
  dir: ReturnType<typeof tempDir>;
  shots: string;
  contexts: BrowserContext[];
  app: () => ServedApp;
} {
  const dir = tempDir(prefix);
  const shots = process.env.STEPWISE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'images') : join(dir.path, 'shots');
  const contexts: BrowserContext[] = [];
  let started: ServedApp | undefined;
  beforeAll(async () => {
    const served = await startServe(dir.db);
    const browser = await launchChromium();
    const client = new EngineClient(
      new WebSocketConnection(
        `ws://127.0.0.1:${served.port}/api/ws?token=${served.token}`,
        (url) => new WebSocket(url),
      ),
    );
    started = { served, browser, client, api: client.api };
    mkdirSync(shots, { recursive: true });
  }, 60_000);
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  afterAll(async () => {
    started?.client.stop();
    await started?.browser.close();
    await started?.served.stop();
    dir.cleanup();
  });
  return {
    dir,
    shots,
    contexts,
    app: () => {
      if (!started) throw new Error('servedAppSuite: the app is ready once its beforeAll ran');
      return started;
    },
  };
}

/**
 * Records the notifications the pages of `context` show (headless Chromium shows nothing to look
 * at): allowed for the app's origin, each one's title and body kept; read them with `notified`.
 */
export async function recordNotifications(context: BrowserContext, origin: string): Promise<void> {
  await context.grantPermissions(['notifications'], { origin });
  await context.addInitScript(`{
      const Real = window.Notification;
      window.__notified = [];
      window.Notification = class {
        static get permission() { return Real.permission; }
        static requestPermission() { return Real.requestPermission(); }
        constructor(title, options) { window.__notified.push({ title, body: options && options.body }); }
      };
    }`);
}

/** What `recordNotifications` recorded on this page so far. */
export function notified(page: Page): Promise<{ title: string; body: string }[]> {
  return page.evaluate<{ title: string; body: string }[]>('window.__notified');
}
