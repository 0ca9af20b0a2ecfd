// Preload: exposes only the bridge (file dialogs, the app menu: its items from the page's command
// table, clicks back by id) and forwards engine ports to the page with window.postMessage, since a
// MessagePort cannot cross contextBridge. Main validates what the page sends.
// A sandboxed preload is CommonJS: `require` is how it reaches electron.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import electron = require('electron');

const { contextBridge, ipcRenderer } = electron;
type IpcRendererEvent = Electron.IpcRendererEvent;
// The preload runs in the page's (isolated) window; only postMessage is used.
declare const window: { postMessage(message: unknown, targetOrigin: string, transfer?: unknown[]): void };

ipcRenderer.on('engine-port', (event: IpcRendererEvent) => {
  window.postMessage({ type: 'stepwise:engine-port' }, '*', event.ports);
});
ipcRenderer.on('engine-state', (_event: IpcRendererEvent, state: unknown) => {
  if (state === 'restarting') window.postMessage({ type: 'stepwise:engine-state', state }, '*');
});

contextBridge.exposeInMainWorld('stepwise', {
  openWorkflowFile: (): Promise<unknown> => ipcRenderer.invoke('dialog:open'),
  saveWorkflowFile: (fileName: string, text: string): Promise<unknown> =>
    ipcRenderer.invoke('dialog:save', String(fileName), String(text)),
  setMenu: (template: unknown): void => ipcRenderer.send('menu:set', template),
  notify: (title: string, body: string, tag: string): void =>
    ipcRenderer.send('notify', String(title), String(body), String(tag)),
  onNotificationClick: (listener: (tag: string) => void): (() => void) => {
    const forward = (_event: IpcRendererEvent, tag: unknown) => {
      if (typeof tag === 'string') listener(tag);
    };
    ipcRenderer.on('notification-click', forward);
    return () => {
      ipcRenderer.removeListener('notification-click', forward);
    };
  },
  onMenu: (listener: (command: string) => void): (() => void) => {
    const forward = (_event: IpcRendererEvent, command: unknown) => {
      if (typeof command === 'string') listener(command);
    };
    ipcRenderer.on('menu', forward);
    return () => {
      ipcRenderer.removeListener('menu', forward);
    };
  },
});
