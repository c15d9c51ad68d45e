#!/usr/bin/env node
/** Entry point of the `polca` command (see program.ts for the commands). */
import { buildProgram } from './program.js';

// A reader that stops early (`polca replay run | head`) closes the pipe: that ends the output, not in a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

buildProgram()
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    process.stderr.write(`polca: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
