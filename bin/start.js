#!/usr/bin/env node
// `npm start`: the desktop app where Electron is installed; where it is not (its binary cannot be
// downloaded, as in CI), say so and start served mode instead.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'renderer', 'index.html'))) {
  console.error('Stepwise is not built yet: run `npm run build` first.');
  process.exit(1);
}

let electron = null;
let reason = '';
try {
  const found = createRequire(import.meta.url)('electron');
  if (typeof found === 'string' && existsSync(found)) electron = found;
  else reason = 'the electron package has no binary';
} catch (error) {
  reason = String(error instanceof Error ? error.message : error).split('\n')[0];
}

const args = electron
  ? [electron, [root, ...process.argv.slice(2)]]
  : [process.execPath, [join(root, 'bin', 'stepwise.js'), 'serve', ...process.argv.slice(2)]];
if (!electron) console.log(`Electron is not available here (${reason}); starting served mode instead.`);
const child = spawn(args[0], args[1], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
