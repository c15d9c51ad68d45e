#!/usr/bin/env node
/** Entry point of the `polca` command (see program.ts for the commands). */
import { buildProgram } from './program.js';

buildProgram()
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    process.stderr.write(`polca: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
