/**
 * Error raised when a run directory cannot be written or read as asked:
 * missing directory, newer schema version, a table whose schema is not the
 * expected one, an event the writer cannot store exactly.
 *
 * The message names the function, the option or file, and the bad value.
 *
 * @example
 * ```ts
 * try { await readRun('/no/such/run'); }
 * catch (e) { if (e instanceof RunFormatError) console.error(e.message); }
 * ```
 */
export class RunFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFormatError';
  }
}
