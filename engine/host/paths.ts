// Where the package's own files are, whether running from source (tests) or from dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'stepwise')
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the stepwise package root');
    dir = parent;
  }
}

export const packageRoot = findPackageRoot();
export const templatesDir = join(packageRoot, 'assets', 'templates');
export const rendererDir = join(packageRoot, 'dist', 'renderer');
/** The engine host's entry module (compiled). */
export const hostEntry = join(packageRoot, 'dist', 'engine', 'host', 'host-entry.js');
