/**
 * The damage policy of the command line: verify a run directory before
 * using it, refuse a damaged one unless asked to use its intact prefix, and
 * always say what was dropped or could not be verified.
 *
 * @packageDocumentation
 */
import { RunFormatError } from './RunFormatError.js';
import { describeRunCheck, verifyRun, type RunCheck } from './verifyRun.js';

/** Options of {@link requireIntactRun}. */
export interface RequireIntactOptions {
  /** Use the intact prefix of a damaged run instead of failing. Default false. */
  allowPartial?: boolean;
  /** Where the report lines go (damage, what could not be verified). Default: standard error. */
  warn?: (line: string) => void;
}

/** What {@link requireIntactRun} found and allows. */
export interface IntactRun {
  check: RunCheck;
  /** Events to read: `intactEvents` when damage was allowed, else undefined (all of them). */
  limit: number | undefined;
}

/**
 * Verify `dir` ({@link verifyRun}) and apply the policy: an intact run
 * passes (notes about what could not be verified are printed); a damaged
 * one throws a {@link RunFormatError} listing every damaged file, unless
 * `allowPartial`, in which case the damage is printed with how many events
 * are kept and dropped, and `limit` is the number of intact events.
 *
 * @param caller - the command, e.g. `polca replay`, at the start of every line.
 * @throws RunFormatError naming the damaged files (and run.json's bad fields, via `readManifest`).
 * @example
 * ```ts
 * const { limit } = await requireIntactRun(dir, 'polca replay', { allowPartial: o.allowPartial });
 * replay(dir, { limit }).subscribe(print);
 * ```
 */
export async function requireIntactRun(dir: string, caller: string, o: RequireIntactOptions = {}): Promise<IntactRun> {
  const warn = o.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const check = await verifyRun(dir, caller);
  const lines = describeRunCheck(check);
  if (check.damage.length > 0 && !o.allowPartial) {
    throw new RunFormatError(
      `${caller}: ${JSON.stringify(dir)} is damaged; nothing was computed:\n  ${lines.join('\n  ')}\n` +
        `pass --allow-partial to use the intact first ${check.intactEvents} events`,
    );
  }
  for (const line of lines) warn(`${caller}: ${line}`);
  if (check.damage.length === 0) return { check, limit: undefined };
  warn(`${caller}: --allow-partial: using the first ${check.intactEvents} of ${check.expectedEvents} events; ${check.expectedEvents - check.intactEvents} dropped`);
  return { check, limit: check.intactEvents };
}
