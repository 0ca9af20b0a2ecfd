// Named secrets: kept by a vault (an owner-only file, or a file of values sealed by the desktop's
// safeStorage), overridden by environment variables `STEPWISE_SECRET_<NAME>`. Values go in and
// are read by nodes at execution; nothing here ever returns them to a client.
import { dirname, join } from 'node:path';
import { CredentialError, checkName, checkValue, envNameOf, ENV_PREFIX, CREDENTIAL_NAME, sameName } from './names.js';
import { readCredentialFile, writeCredentialFile, type StoredEntry } from './file.js';

export type CredentialSource = 'file' | 'keychain' | 'env';

/** What may be shown of a credential: never its value. */
export interface CredentialInfo {
  name: string;
  /** Where the value in effect comes from: an environment variable overrides a stored value. */
  source: CredentialSource;
  /** When it was last set (ms since epoch); null for an environment variable. */
  updatedAt: number | null;
}

/** Where stored values live. */
export interface Vault {
  readonly source: Exclude<CredentialSource, 'env'>;
  /** For messages: the file. */
  readonly location: string;
  entries(): ReadonlyMap<string, { value: string; updatedAt: number }>;
  put(name: string, value: string, updatedAt: number): Promise<void>;
  remove(name: string): Promise<void>;
}

export type Environment = Readonly<Record<string, string | undefined>>;

export class CredentialStore {
  readonly #vault: Vault;
  readonly #env: Environment;

  constructor(vault: Vault, env: Environment = process.env) {
    this.#vault = vault;
    this.#env = env;
  }

  get location(): string {
    return this.#vault.location;
  }

  list(): CredentialInfo[] {
    const infos: CredentialInfo[] = [];
    for (const [key, value] of Object.entries(this.#env)) {
      const name = key.slice(ENV_PREFIX.length);
      if (key.startsWith(ENV_PREFIX) && value !== undefined && CREDENTIAL_NAME.test(name))
        infos.push({ name, source: 'env', updatedAt: null });
    }
    for (const [name, { updatedAt }] of this.#vault.entries())
      if (!infos.some((info) => sameName(info.name, name))) infos.push({ name, source: this.#vault.source, updatedAt });
    return infos.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The value in effect, or undefined when there is none. Throws for a malformed name or value. */
  get(name: string): string | undefined {
    checkName(name);
    const fromEnv = this.#env[envNameOf(name)];
    if (fromEnv !== undefined) return checkValue(name, fromEnv);
    return this.#find(name)?.[1].value;
  }

  async set(name: string, value: string): Promise<CredentialInfo> {
    checkName(name);
    checkValue(name, value);
    const existing = this.#find(name);
    if (existing && existing[0] !== name) await this.#vault.remove(existing[0]);
    const updatedAt = Date.now();
    await this.#vault.put(name, value, updatedAt);
    const overridden = this.#env[envNameOf(name)] !== undefined;
    return { name, source: overridden ? 'env' : this.#vault.source, updatedAt: overridden ? null : updatedAt };
  }

  async delete(name: string): Promise<void> {
    checkName(name);
    const existing = this.#find(name);
    if (existing) return this.#vault.remove(existing[0]);
    if (this.#env[envNameOf(name)] !== undefined)
      throw new CredentialError(
        `credential "${name}" comes from the environment variable ${envNameOf(name)}: unset it there`,
        'read-only',
      );
    throw new CredentialError(`no credential "${name}"`, 'not-found');
  }

  #find(name: string): [string, { value: string; updatedAt: number }] | undefined {
    for (const entry of this.#vault.entries()) if (sameName(entry[0], name)) return entry;
    return undefined;
  }
}

/** The credentials file of a database: beside it, in the folder Stepwise keeps it in. */
export function credentialsPathFor(dbPath: string): string {
  return join(dirname(dbPath), 'credentials.json');
}

/** Values in clear in an owner-only file (the CLI and served mode). Re-read when the file changes. */
export class FileVault implements Vault {
  readonly source = 'file' as const;
  readonly location: string;
  #cache: { stamp: string; entries: Map<string, { value: string; updatedAt: number }> } | undefined;

  constructor(path: string) {
    this.location = path;
  }

  entries(): ReadonlyMap<string, { value: string; updatedAt: number }> {
    const { stamp, entries } = readCredentialFile(this.location, this.#cache?.stamp);
    if (entries === null && this.#cache) return this.#cache.entries;
    const map = new Map<string, { value: string; updatedAt: number }>();
    for (const [name, entry] of Object.entries(entries ?? {}))
      if (typeof entry.value === 'string') map.set(name, { value: entry.value, updatedAt: entry.updatedAt });
    this.#cache = { stamp, entries: map };
    return map;
  }

  put(name: string, value: string, updatedAt: number): Promise<void> {
    return this.#write((entries) => entries.set(name, { value, updatedAt }));
  }

  remove(name: string): Promise<void> {
    return this.#write((entries) => entries.delete(name));
  }

  #write(change: (entries: Map<string, { value: string; updatedAt: number }>) => void): Promise<void> {
    // The desktop app's file (values sealed by the OS keychain): rewriting it here would drop them.
    const sealed = Object.entries(readCredentialFile(this.location).entries ?? {}).filter(
      ([, entry]) => entry.sealed !== undefined,
    );
    if (sealed.length > 0)
      return Promise.reject(
        new CredentialError(
          `${this.location} belongs to the desktop app (${sealed.length} value(s) sealed by the OS keychain), ` +
            'which this process cannot unseal: manage credentials in the app (File → Credentials…), or give ' +
            'this process its own with STEPWISE_SECRET_<NAME> environment variables',
          'sealed',
        ),
      );
    const entries = new Map(this.entries());
    change(entries);
    const stored: Record<string, StoredEntry> = {};
    for (const [name, entry] of entries) stored[name] = entry;
    writeCredentialFile(this.location, stored);
    this.#cache = undefined;
    return Promise.resolve();
  }
}

/** Values for tests and engines without a database file: kept in memory only. */
export class MemoryVault implements Vault {
  readonly source = 'file' as const;
  readonly location = '(memory)';
  readonly #entries = new Map<string, { value: string; updatedAt: number }>();

  entries(): ReadonlyMap<string, { value: string; updatedAt: number }> {
    return this.#entries;
  }

  put(name: string, value: string, updatedAt: number): Promise<void> {
    this.#entries.set(name, { value, updatedAt });
    return Promise.resolve();
  }

  remove(name: string): Promise<void> {
    this.#entries.delete(name);
    return Promise.resolve();
  }
}

/** The credentials of a database for the CLI and served mode: its file plus the environment. */
export function fileCredentials(dbPath: string, env: Environment = process.env): CredentialStore {
  return new CredentialStore(new FileVault(credentialsPathFor(dbPath)), env);
}
