// `npm run bench`: runs each benchmark script below in turn, each in its own process, and fails if
// any failed. To add a benchmark, append it here; `npm run bench -- engine` runs only those named.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches: readonly { name: string; script: string }[] = [
  { name: 'engine', script: 'engine.bench.js' },
  { name: 'profile', script: 'profile.bench.js' },
  { name: 'sandbox', script: 'sandbox.bench.js' },
  { name: 'journal', script: 'journal.bench.js' },
  { name: 'editor', script: 'editor.bench.js' },
  { name: 'runs-list', script: 'runs-list.bench.js' },
  { name: 'scrub', script: 'scrub.bench.js' },
  { name: 'parked', script: 'parked.bench.js' },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !benches.some((bench) => bench.name === name));
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}; known: ${benches.map((bench) => bench.name).join(', ')}`);
  process.exit(2);
}

const failed: string[] = [];
for (const bench of benches) {
  if (wanted.length > 0 && !wanted.includes(bench.name)) continue;
  const script = fileURLToPath(new URL(bench.script, import.meta.url));
  // One bench failing (no Chromium for the editor, say) does not hide the others' tables.
  const { status, signal } = spawnSync(process.execPath, ['--expose-gc', script], { stdio: 'inherit' });
  if (status !== 0) failed.push(`${bench.name} (${signal ?? `exit ${status}`})`);
}
if (failed.length > 0) {
  console.error(`\nbench failed: ${failed.join(', ')}`);
  process.exit(1);
}
