#!/usr/bin/env node
// The `stepwise` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../dist/engine/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write('stepwise: not built yet. Run `npm run build` in the project folder.\n');
  process.exit(2);
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
