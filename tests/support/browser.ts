// The real UI in Debian's Chromium (never a downloaded browser) against `stepwise serve`.
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Page } from '@playwright/test';
import { spawnCli } from './harness.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface ServedProcess {
  url: string;
  origin: string;
  port: number;
  token: string;
  /** The `stepwise serve` process (its engine host is a child of it: `childPids` in processes.ts). */
  pid: number;
  /** Resolves once the process has exited, however it was stopped (SIGKILL included). */
  exited: Promise<void>;
  stop(): Promise<void>;
}

/** `stepwise serve --json` as a child process; resolves once it printed its URL. */
/** How long a `stepwise serve` may take to say where it listens, or to exit after SIGTERM. */
const SERVE_WAIT_MS = 30_000;

export async function startServe(db: string): Promise<ServedProcess> {
  const child = spawnCli(['serve', '--port', '0', '--json'], { db });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    // Named, not the test's own timeout, when it never says where it listens.
    const late = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stepwise serve printed nothing within ${SERVE_WAIT_MS} ms: ${stderr}`));
    }, SERVE_WAIT_MS);
    lines.once('line', (line) => {
      clearTimeout(late);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(late);
      reject(new Error(`stepwise serve exited ${code}: ${stderr}`));
    });
  });
  const info = JSON.parse(first) as { url: string; port: number; token: string };
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    ...info,
    origin: `http://127.0.0.1:${info.port}`,
    pid: child.pid ?? 0,
    exited,
    // A serve that does not stop on SIGTERM is a failure of its own, named, and then killed.
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      let late: NodeJS.Timeout | undefined;
      const hung = new Promise<'hung'>((resolve) => (late = setTimeout(() => resolve('hung'), SERVE_WAIT_MS)));
      const outcome = await Promise.race([exited, hung]);
      clearTimeout(late);
      if (outcome !== 'hung') return;
      child.kill('SIGKILL');
      await exited;
      throw new Error(
        `stepwise serve (pid ${child.pid}) did not exit within ${SERVE_WAIT_MS} ms of SIGTERM: ${stderr}`,
      );
    },
  };
}

/** Drags from one element's centre to another's in small steps, as a person would. */
export async function dragBetween(page: Page, from: string, to: string): Promise<void> {
  const a = await page.locator(from).boundingBox();
  const b = await page.locator(to).boundingBox();
  if (!a || !b) throw new Error(`cannot drag ${from} → ${to}: not visible`);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.mouse.up();
}
