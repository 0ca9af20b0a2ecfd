// Electron main: thin. Window (and its remembered bounds), app menu (menu.ts), native file
// dialogs, the single-instance lock, and the engine host in a utility process — restarted when it
// dies, with a fresh MessagePort handed to the window each time. No business logic lives here.
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  MessageChannelMain,
  net,
  Notification,
  protocol,
  safeStorage,
  session,
  utilityProcess,
  type UtilityProcess,
} from 'electron';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { contentSecurityPolicy, WORKFLOW_FILE_SUFFIX } from '../engine/api/index.js';
import { menuFromTemplate, menuTemplateSchema, type MenuSection } from './menu.js';

const SCHEME = 'stepwise';
const root = app.getAppPath();
const rendererDir = join(root, 'dist', 'renderer');
const hostEntry = join(root, 'dist', 'engine', 'host', 'host-entry.js');
const templatesDir = join(root, 'assets', 'templates');
const CSP = contentSecurityPolicy();
const MAX_FILE_BYTES = 50 * 1024 * 1024;
/** The plain API for other programs (decisions, signals, webhooks); STEPWISE_API_PORT=off turns it off. */
const API_PORT = process.env.STEPWISE_API_PORT ?? '7475';

protocol.registerSchemesAsPrivileged([
  { scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

if (!app.requestSingleInstanceLock()) app.quit();

let window: BrowserWindow | null = null;
let host: UtilityProcess | null = null;
let hostReady = false;
let backoffMs = 200;
let quitting = false;

// ── Engine host ───────────────────────────────────────────────────────────────────────────────

function startHost(): void {
  const dbPath = join(app.getPath('userData'), 'stepwise.db');
  // --keychain: the host keeps credentials sealed with safeStorage, which it asks us to do.
  const args = ['--db', dbPath, '--templates', templatesDir, '--keychain'];
  if (/^\d+$/.test(API_PORT))
    args.push('--http-port', API_PORT, '--http-access', join(app.getPath('userData'), 'api-access.json'));
  const child = utilityProcess.fork(hostEntry, args, {
    serviceName: 'Stepwise engine',
    stdio: 'inherit',
  });
  host = child;
  child.on('message', (message: { type?: string; message?: string }) => {
    if (message.type === 'seal-request') {
      child.postMessage(sealOrUnseal(message));
    } else if (message.type === 'ready') {
      hostReady = true;
      backoffMs = 200;
      connectWindow();
    } else if (message.type === 'fatal') {
      quitting = true;
      dialog.showErrorBox('Stepwise cannot open its database', message.message ?? 'unknown error');
      app.quit();
    }
  });
  child.on('exit', () => {
    if (host !== child) return;
    host = null;
    hostReady = false;
    if (quitting) return;
    window?.webContents.send('engine-state', 'restarting');
    setTimeout(startHost, backoffMs);
    backoffMs = Math.min(backoffMs * 2, 5000);
  });
}

/** safeStorage for the host's credentials (engine/host/keychain.ts): base64 sealed text both ways. */
function sealOrUnseal(message: unknown): { type: 'seal-result'; id: number; data?: string; error?: string } {
  const { id, op, data } = message as { id?: unknown; op?: unknown; data?: unknown };
  const result = { type: 'seal-result' as const, id: typeof id === 'number' ? id : -1 };
  if (typeof data !== 'string' || (op !== 'seal' && op !== 'unseal')) return { ...result, error: 'malformed request' };
  if (!safeStorage.isEncryptionAvailable()) return { ...result, error: 'no OS keychain is available' };
  try {
    return op === 'seal'
      ? { ...result, data: safeStorage.encryptString(data).toString('base64') }
      : { ...result, data: safeStorage.decryptString(Buffer.from(data, 'base64')) };
  } catch (error) {
    return { ...result, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Gives the window a new port to the engine host (first load, reload, and after a restart). */
function connectWindow(): void {
  if (!window || !host || !hostReady) return;
  const { port1, port2 } = new MessageChannelMain();
  host.postMessage({ type: 'connect' }, [port1]);
  window.webContents.postMessage('engine-port', null, [port2]);
}

// ── Window ────────────────────────────────────────────────────────────────────────────────────

interface Bounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized?: boolean;
}

const stateFile = () => join(app.getPath('userData'), 'window-state.json');

function readBounds(): Bounds {
  try {
    const saved = JSON.parse(readFileSync(stateFile(), 'utf8')) as Bounds;
    if (saved.width >= 600 && saved.height >= 400) return saved;
  } catch {
    // First start, or an unreadable file: defaults.
  }
  return { width: 1440, height: 900 };
}

function createWindow(): void {
  const bounds = readBounds();
  const win = new BrowserWindow({
    ...bounds,
    minWidth: 900,
    minHeight: 600,
    title: 'Stepwise',
    show: false,
    webPreferences: {
      preload: join(root, 'dist', 'electron', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  window = win;
  if (bounds.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());
  win.webContents.on('did-finish-load', connectWindow);
  win.on('close', () => {
    const { x, y, width, height } = win.getNormalBounds();
    writeFileSync(stateFile(), JSON.stringify({ x, y, width, height, maximized: win.isMaximized() }));
  });
  win.on('closed', () => {
    window = null;
  });
  void win.loadURL(`${SCHEME}://app/index.html`);
}

// ── Menu ──────────────────────────────────────────────────────────────────────────────────────
// Built from the template the page sends (see menu.ts); until it does, the menu holds main's roles.

function buildMenu(sections: MenuSection[]): void {
  const click = (id: string) => window?.webContents.send('menu', id);
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuFromTemplate(sections, click, process.platform)));
}

function registerMenu(): void {
  buildMenu([]);
  ipcMain.on('menu:set', (event, template: unknown) => {
    if (event.sender !== window?.webContents) return;
    const parsed = menuTemplateSchema.safeParse(template);
    if (parsed.success) buildMenu(parsed.data.sections);
  });
}

// ── Dialogs (the only IPC besides the engine port and the menu) ───────────────────────────────

function registerDialogs(): void {
  ipcMain.handle('dialog:open', async () => {
    if (!window) return null;
    const result = await dialog.showOpenDialog(window, {
      title: 'Open a workflow',
      properties: ['openFile'],
      filters: [{ name: 'Stepwise workflow', extensions: ['json'] }],
    });
    const path = result.filePaths[0];
    if (result.canceled || path === undefined) return null;
    const text = readFileSync(path, 'utf8');
    if (text.length > MAX_FILE_BYTES) throw new Error(`${basename(path)} is larger than 50 MB`);
    return { name: basename(path), text };
  });
  ipcMain.handle('dialog:save', async (_event, fileName: unknown, text: unknown) => {
    if (typeof fileName !== 'string' || typeof text !== 'string' || !window) return false;
    const result = await dialog.showSaveDialog(window, {
      title: 'Export workflow',
      defaultPath: basename(fileName).endsWith(WORKFLOW_FILE_SUFFIX)
        ? basename(fileName)
        : `workflow${WORKFLOW_FILE_SUFFIX}`,
      filters: [{ name: 'Stepwise workflow', extensions: ['json'] }],
    });
    if (result.canceled || !result.filePath) return false;
    writeFileSync(result.filePath, text);
    return true;
  });
}

// ── Notifications (a new approval, a reminder): native, clicked back to the page by tag ─────────

const MAX_NOTIFICATION_TEXT = 500;

function registerNotifications(): void {
  ipcMain.on('notify', (event, title: unknown, body: unknown, tag: unknown) => {
    if (event.sender !== window?.webContents || !Notification.isSupported()) return;
    if (typeof title !== 'string' || typeof body !== 'string' || typeof tag !== 'string') return;
    const notification = new Notification({
      title: title.slice(0, MAX_NOTIFICATION_TEXT),
      body: body.slice(0, MAX_NOTIFICATION_TEXT),
    });
    notification.on('click', () => {
      if (!window) return;
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
      window.webContents.send('notification-click', tag.slice(0, MAX_NOTIFICATION_TEXT));
    });
    notification.show();
  });
}

// ── Security ──────────────────────────────────────────────────────────────────────────────────

function lockDown(): void {
  // The app's own files, with a strict CSP; nothing outside dist/renderer.
  protocol.handle(SCHEME, (request) => {
    const { pathname } = new URL(request.url);
    const file = normalize(join(rendererDir, decodeURIComponent(pathname)));
    if (!file.startsWith(rendererDir + sep)) return new Response('forbidden', { status: 403 });
    return net.fetch(pathToFileURL(file).toString()).then((response) => {
      const headers = new Headers(response.headers);
      headers.set('Content-Security-Policy', CSP);
      headers.set('X-Content-Type-Options', 'nosniff');
      return new Response(response.body, { status: response.status, headers });
    });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (event, url) => {
      if (!url.startsWith(`${SCHEME}://app/`)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
}

// ── Lifecycle ─────────────────────────────────────────────────────────────────────────────────

app.on('second-instance', () => {
  if (!window) return;
  if (window.isMinimized()) window.restore();
  window.focus();
});

app.on('before-quit', () => {
  quitting = true;
  host?.kill();
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('activate', () => {
  if (!window) createWindow();
});

void app.whenReady().then(() => {
  lockDown();
  registerDialogs();
  registerMenu();
  registerNotifications();
  startHost();
  createWindow();
});
