// Entry module of the engine host process (forked by `stepwise serve` and by Electron main).
import { hostMain } from './host-main.js';

hostMain(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    `stepwise engine host: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
