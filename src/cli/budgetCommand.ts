import { lastValueFrom, toArray } from 'rxjs';
import { formatBudget, lossBudget, type BudgetRow } from '../analysis/lossBudget.js';
import { replay } from '../sinks/arrow/replay.js';
import { requireIntactRun } from '../sinks/arrow/requireIntactRun.js';
import type { PolcaEvent, PolcaIncrementEvent } from '../stream/events.js';

/**
 * `polca budget <dir> [--edges 0,500,1000,2000]`: how much of the probe's
 * loss changes the run's POLCA terms account for, by step range
 * ({@link lossBudget}), as rows and as a markdown table.
 *
 * The run is verified first: damage fails the command, naming the files,
 * unless `allowPartial` (then the intact prefix is used and the drop reported).
 *
 * @throws Error when the run has no POLCA intervals; RangeError for bad `edges`; RunFormatError for damage.
 */
export async function budgetCommand(
  dir: string, edges: readonly number[], o: { allowPartial?: boolean; warn?: (line: string) => void } = {},
): Promise<{ rows: BudgetRow[]; text: string }> {
  const { limit } = await requireIntactRun(dir, 'polca budget', o);
  const events: PolcaEvent[] = await lastValueFrom(replay(dir, { limit }).pipe(toArray()));
  const first = events.find((e): e is PolcaIncrementEvent => e.type === 'polca');
  if (!first) throw new Error(`polca budget: ${dir} has no POLCA intervals`);
  const rows = lossBudget(events, edges);
  return { rows, text: formatBudget(rows, `recorded (${first.secondOrder})`) };
}
