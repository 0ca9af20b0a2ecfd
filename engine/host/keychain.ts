// The desktop's credentials: a file of values sealed by Electron's safeStorage. Only Electron main
// can call safeStorage, so the host asks it to seal and unseal over the parent port
// (`seal-request` → `seal-result`, electron/main.ts) and keeps the unsealed values in memory.
import { CredentialStore, credentialsPathFor, SealedFileVault } from '../credentials/index.js';
import type { SealRequest, SealResult } from './ipc.js';

export interface SealPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

export async function openKeychainCredentials(dbPath: string, port: SealPort): Promise<CredentialStore> {
  const pending = new Map<number, { resolve(data: string): void; reject(error: Error): void }>();
  let nextId = 0;
  port.on('message', ({ data }) => {
    if (!isSealResult(data)) return;
    const waiting = pending.get(data.id);
    pending.delete(data.id);
    if (data.data !== undefined) waiting?.resolve(data.data);
    else waiting?.reject(new Error(`the OS keychain refused: ${data.error ?? 'unknown error'}`));
  });
  const call = (op: 'seal' | 'unseal', data: string): Promise<string> =>
    new Promise((resolve, reject) => {
      nextId += 1;
      pending.set(nextId, { resolve, reject });
      const request: SealRequest = { type: 'seal-request', id: nextId, op, data };
      port.postMessage(request);
    });
  const vault = await SealedFileVault.open(credentialsPathFor(dbPath), {
    seal: (value) => call('seal', value),
    unseal: (sealed) => call('unseal', sealed),
  });
  return new CredentialStore(vault);
}

function isSealResult(value: unknown): value is SealResult {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as { type?: unknown }).type === 'seal-result' &&
    typeof (value as { id?: unknown }).id === 'number'
  );
}
