// The credentials file: JSON, owner-only (0600) in a folder created owner-only (0700), replaced
// atomically. A file other users can read or that belongs to someone else is refused, not used.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { CredentialError, CREDENTIAL_NAME } from './names.js';

/** One credential as stored: its value in clear (file vault) or sealed by the OS (keychain vault). */
export interface StoredEntry {
  value?: string;
  sealed?: string;
  updatedAt: number;
}

const fileSchema = z.object({
  stepwise: z.literal('credentials'),
  version: z.literal(1),
  credentials: z.record(
    z.string().regex(CREDENTIAL_NAME),
    z.object({ value: z.string().optional(), sealed: z.string().optional(), updatedAt: z.number() }),
  ),
});

const isPosix = process.platform !== 'win32';

/**
 * The file's entries, or null when its stamp is still `knownStamp` (unchanged since last read).
 * A missing file has no entries.
 */
export function readCredentialFile(
  path: string,
  knownStamp?: string,
): { stamp: string; entries: Record<string, StoredEntry> | null } {
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { stamp: 'missing', entries: {} };
    throw new CredentialError(`cannot read the credentials file ${path}: ${(error as Error).message}`, 'unreadable');
  }
  const stamp = `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  if (stamp === knownStamp) return { stamp, entries: null };
  if (!stats.isFile()) throw new CredentialError(`the credentials file ${path} is not a file`, 'unsafe-file');
  if (isPosix) {
    if (stats.uid !== process.getuid?.())
      throw new CredentialError(`the credentials file ${path} belongs to another user: refused`, 'unsafe-file');
    if ((stats.mode & 0o077) !== 0)
      throw new CredentialError(
        `the credentials file ${path} can be read by other users (mode ${(stats.mode & 0o777).toString(8)}): ` +
          `run \`chmod 600 ${path}\``,
        'unsafe-file',
      );
  }
  let parsed;
  try {
    parsed = fileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    // Not the parser's message: it quotes the file, which holds the values.
    const reason = error instanceof SyntaxError ? 'it is not valid JSON' : (error as Error).message;
    throw new CredentialError(`cannot read the credentials file ${path}: ${reason}`, 'unreadable');
  }
  if (!parsed.success)
    throw new CredentialError(`the credentials file ${path} is not a Stepwise credentials file`, 'unreadable');
  return { stamp, entries: parsed.data.credentials };
}

/** Replaces the file with these entries: a new owner-only file renamed over the old one. */
export function writeCredentialFile(path: string, entries: Record<string, StoredEntry>): void {
  // Only folders created here get 0700; an existing folder keeps its mode (the file is 0600 anyway).
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const text = `${JSON.stringify({ stepwise: 'credentials', version: 1, credentials: entries }, null, 2)}\n`;
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  // 'wx': never write through a file (or link) someone placed at the temporary name.
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
}
