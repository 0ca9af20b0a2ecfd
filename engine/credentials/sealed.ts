// The desktop's vault: the credentials file holds values sealed by the OS keychain (Electron's
// safeStorage, which only Electron main can call), unsealed once into this process's memory.
import { readCredentialFile, writeCredentialFile, type StoredEntry } from './file.js';
import type { Vault } from './store.js';

/** Seals and unseals with a key the OS keeps (safeStorage); base64 text both ways. */
export interface Sealer {
  seal(value: string): Promise<string>;
  unseal(sealed: string): Promise<string>;
}

export class SealedFileVault implements Vault {
  readonly source = 'keychain' as const;
  readonly location: string;
  readonly #sealer: Sealer;
  readonly #sealed = new Map<string, StoredEntry>();
  readonly #values = new Map<string, { value: string; updatedAt: number }>();

  private constructor(path: string, sealer: Sealer) {
    this.location = path;
    this.#sealer = sealer;
  }

  /** Reads the file and unseals every value. An entry stored in clear is ignored: this vault never writes one. */
  static async open(path: string, sealer: Sealer): Promise<SealedFileVault> {
    const vault = new SealedFileVault(path, sealer);
    for (const [name, entry] of Object.entries(readCredentialFile(path).entries ?? {})) {
      if (entry.sealed === undefined) continue;
      vault.#sealed.set(name, entry);
      vault.#values.set(name, { value: await sealer.unseal(entry.sealed), updatedAt: entry.updatedAt });
    }
    return vault;
  }

  entries(): ReadonlyMap<string, { value: string; updatedAt: number }> {
    return this.#values;
  }

  async put(name: string, value: string, updatedAt: number): Promise<void> {
    const sealed = await this.#sealer.seal(value);
    this.#sealed.set(name, { sealed, updatedAt });
    this.#write();
    this.#values.set(name, { value, updatedAt });
  }

  remove(name: string): Promise<void> {
    this.#sealed.delete(name);
    this.#write();
    this.#values.delete(name);
    return Promise.resolve();
  }

  #write(): void {
    // Entries in clear (written by a CLI before the app sealed the file) are kept, not dropped.
    const clear = Object.entries(readCredentialFile(this.location).entries ?? {}).filter(
      ([name, entry]) => entry.sealed === undefined && !this.#sealed.has(name),
    );
    writeCredentialFile(this.location, { ...Object.fromEntries(clear), ...Object.fromEntries(this.#sealed) });
  }
}
