// `stepwise secrets set|list|rm`: the credentials beside the database. Values go in (from
// --value or stdin) and never come out: `list` shows names, where each comes from and when set.
import { readFileSync } from 'node:fs';
import { CredentialError, fileCredentials, type CredentialInfo } from '../credentials/index.js';

export const SECRETS_USAGE = `  secrets set <name> [--value V]   store a credential (the value from stdin without --value)
  secrets list                     credential names, where each comes from, when set (never values)
  secrets rm <name>                delete a stored credential`;

export interface SecretsIo {
  out(text: string): void;
  err(text: string): void;
  /** All of standard input. */
  readStdin?(): string;
}

export class SecretsUsageError extends Error {}

/** Returns the exit code: 0 done, 1 refused (a bad name or value, an unknown or read-only credential). */
export async function secretsCommand(
  args: string[],
  options: { dbPath: string; value: string | undefined; json: boolean },
  io: SecretsIo,
): Promise<number> {
  const [action, name, ...rest] = args;
  if (rest.length > 0) throw new SecretsUsageError(`unexpected argument "${rest[0]}"`);
  const store = fileCredentials(options.dbPath);
  const needName = (): string => {
    if (name === undefined) throw new SecretsUsageError(`secrets ${action}: expected a credential name`);
    return name;
  };
  try {
    switch (action) {
      case 'list': {
        const infos = store.list();
        if (options.json) io.out(JSON.stringify({ credentials: infos, file: store.location }));
        else if (infos.length === 0) io.out(`no credentials (file: ${store.location})`);
        else for (const info of infos) io.out(formatInfo(info));
        return 0;
      }
      case 'set': {
        const key = needName();
        const value = options.value ?? stripNewline((io.readStdin ?? readStdin)());
        const info = await store.set(key, value);
        const overridden = info.source === 'env' ? ` (the environment variable overrides it while set)` : '';
        if (options.json) io.out(JSON.stringify(info));
        else io.out(`credential "${key}" saved in ${store.location}${overridden}`);
        return 0;
      }
      case 'rm': {
        const key = needName();
        await store.delete(key);
        if (options.json) io.out(JSON.stringify({ deleted: key }));
        else io.out(`credential "${key}" deleted`);
        return 0;
      }
      default:
        throw new SecretsUsageError(
          action === undefined ? 'secrets: expected set, list or rm' : `secrets: unknown action "${action}"`,
        );
    }
  } catch (error) {
    if (!(error instanceof CredentialError)) throw error;
    if (options.json) io.out(JSON.stringify({ error: error.message }));
    io.err(`stepwise: ${error.message}`);
    return 1;
  }
}

function formatInfo(info: CredentialInfo): string {
  const when = info.updatedAt === null ? '' : new Date(info.updatedAt).toISOString().replace('T', ' ').slice(0, 19);
  const source = info.source === 'env' ? 'environment' : info.source;
  return `${info.name.padEnd(24)}  ${source.padEnd(11)}  ${when}`.trimEnd();
}

function readStdin(): string {
  return readFileSync(0, 'utf8');
}

/** `echo value | stepwise secrets set x` ends in a newline that is not part of the value. */
function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}
