/**
 * Verifying a whole run directory before trusting what it says: every
 * table file's checksums, framing and end, its run id, its size, batches
 * and rows against run.json, and the rows of every event across tables.
 *
 * @packageDocumentation
 */
import path from 'node:path';
import type { RecordBatch, Schema } from 'apache-arrow';
import type { StreamEnd } from './ipcFrames.js';
import { readManifest, type RunManifest } from './manifest.js';
import { readLimits, type ReadLimits } from './readLimits.js';
import { RunFormatError } from './RunFormatError.js';
import { TABLE_NAMES, eventTableSchema, paramsSchema, tableFileName, tableSchema, type TableName } from './schemas.js';
import { TableFileReader } from './TableFileReader.js';

/**
 * One problem found in a run directory: what a reader would drop or
 * misread. Names the file and, when known, where in it.
 *
 * @example
 * ```ts
 * for (const d of check.damage) console.error(`${d.file}: ${d.message}`);
 * ```
 */
export interface RunDamage {
  /** Table name (`polca`, `events`, `params`, …). */
  table: string;
  /** Path of the file. */
  file: string;
  /** What is wrong, in words, with byte offsets, batch and row numbers where known. */
  message: string;
}

/**
 * What verification read from one table file.
 *
 * @example
 * ```ts
 * check.tables.polca.batches; // batches that passed every check
 * ```
 */
export interface TableCheck {
  file: string;
  /** File size in bytes (0 when it could not be opened). */
  bytes: number;
  /** Length of the prefix of complete, verified messages. */
  validBytes: number;
  /** Verified batches and their rows. */
  batches: number;
  rows: number;
  /** Batches whose checksum was verified (the rest carry none). */
  checksummed: number;
  /** How the readable prefix ended; `missing` when the file could not be read at all. */
  end: StreamEnd | 'missing';
  /** Why reading stopped early. */
  reason?: string;
  /** Run id in the file's schema metadata. */
  runId?: string;
}

/**
 * Result of {@link verifyRun}.
 *
 * @example
 * ```ts
 * const check = await verifyRun('runs/arith');
 * if (check.damage.length > 0) console.error(describeRunCheck(check).join('\n'));
 * replay('runs/arith', { events: check.intactEvents });
 * ```
 */
export interface RunCheck {
  dir: string;
  manifest: RunManifest;
  /** Per table (and `params` when the run kept θ). */
  tables: Record<string, TableCheck>;
  /** Rows of the verified commit log (`events` table). */
  committed: number;
  /** Events the run should hold: run.json's `events` for a closed run, else `committed`. */
  expectedEvents: number;
  /** Length of the prefix of events whose rows are all present and verified in every table: replaying this many is exact. */
  intactEvents: number;
  /** Everything that would be dropped or misread. Empty for an intact run. */
  damage: RunDamage[];
  /** What could not be verified (a run written before checksums, a run still open or killed). Not damage. */
  unverified: string[];
}

/** Tables whose rows per event {@link ownedRows} knows; others get the file checks only. */
const PER_EVENT = new Set<string>(['steps', 'checkpoints', 'losses', 'basis', 'intervals', 'residuals', 'projections', 'polca', 'clusters', 'transitions', 'alerts']);

/** Rows an event of a type owns in a table: a count, `any` (clusters), or none. */
type Owned = number | 'any';

function ownedRows(table: TableName, type: string, n: number, numBasis: number | undefined): Owned | null {
  const k = numBasis ?? 'any';
  const per = (count: Owned): Owned => (count === 'any' ? 'any' : count * n);
  switch (table) {
    case 'steps':
      return type === 'step' ? 1 : null;
    case 'checkpoints':
      return type === 'checkpoint' ? 1 : null;
    case 'losses':
      return type === 'checkpoint' ? n : null;
    case 'basis':
      return type === 'basis' ? 1 : null;
    case 'intervals':
      return type === 'polca' ? 1 : null;
    case 'residuals':
      return type === 'polca' ? n : null;
    case 'projections':
      return type === 'polca' ? k : null;
    case 'polca':
      return type === 'polca' ? per(k) : null;
    case 'clusters':
      return type === 'clusters' ? 'any' : null;
    case 'transitions':
      return type === 'transition' ? 1 : null;
    case 'alerts':
      return type === 'alert' ? 1 : null;
    default:
      return null;
  }
}

/** Reads a table file batch by batch through `each`, returning what was verified; never throws for damage. */
/** The scan ended before the file did (damage, or a missing file): rows after its last intact one may be lost. */
function stoppedEarly(check: TableCheck): boolean {
  return check.end !== 'eos' && check.end !== 'eof';
}

function scanTable(file: string, schema: Schema, caller: string, limits: ReadLimits, each: (batch: RecordBatch) => void): TableCheck {
  let reader: TableFileReader;
  try {
    reader = new TableFileReader(file, schema, caller, limits.fileBytes, limits.messageBytes);
  } catch (e) {
    if (!(e instanceof RunFormatError)) throw e;
    return { file, bytes: 0, validBytes: 0, batches: 0, rows: 0, checksummed: 0, end: 'missing', reason: e.message };
  }
  try {
    for (let b = reader.next(); b; b = reader.next()) each(b);
  } finally {
    reader.close();
  }
  const end = reader.end ?? 'eof';
  return {
    file, bytes: reader.bytes, validBytes: reader.position, batches: reader.batches, rows: reader.rows, checksummed: reader.checksummed, end,
    ...(reader.reason !== undefined ? { reason: reader.reason } : {}), ...(reader.runId !== undefined ? { runId: reader.runId } : {}),
  };
}

/**
 * Verify a run directory without keeping its data in memory (each table is
 * read once, one batch at a time). Checks, for every table file:
 *
 * - framing, structure and per-batch checksums (`batchChecksum.ts`): the
 *   first damaged batch and everything after it count as dropped;
 * - the run id in its schema against run.json's `runId` (a table copied
 *   from another run is untrusted as a whole);
 * - for a closed run: the end-of-stream marker, and size, batches and rows
 *   against run.json's `files`; a file larger than recorded is not read;
 * - the rows of every committed event: N per checkpoint in `losses`, N per
 *   interval in `residuals`, `numBasis` in `projections` and N·`numBasis`
 *   in `polca`, one in `steps`, `checkpoints`, `basis`, `intervals`,
 *   `transitions` and `alerts`, none for another event;
 * - basis vectors across tables: an interval projects only on vectors an
 *   earlier `basis` event announced, and its `polca` rows are for those vectors;
 * - θ (`params`, with `keepParams`): row i is the i-th committed
 *   checkpoint's, at its step; a missing θ ends the intact prefix before
 *   that checkpoint;
 * - the commit log against run.json's `events` for a closed run.
 *
 * @throws RunFormatError only when run.json itself is missing or bad (a field is named).
 * @example
 * ```ts
 * const check = await verifyRun('runs/arith');
 * check.damage;        // [] for an intact run
 * check.intactEvents;  // events that replay exactly
 * ```
 */
export async function verifyRun(dir: string, caller = 'verifyRun'): Promise<RunCheck> {
  const manifest = await readManifest(dir, caller);
  const closed = manifest.status === 'closed';
  // Layout-1 runs stored time as Float64: their tables are checked against their own schemas.
  const layout = manifest.layout ?? 1;
  const n = manifest.numProbe;
  const damage: RunDamage[] = [];
  const unverified: string[] = [];
  const tables: Record<string, TableCheck> = {};
  const fileOf = (name: string) => path.join(dir, name === 'params' ? (manifest.params as string) : (manifest.tables?.[name as TableName] ?? tableFileName(name)));
  const limitOf = (name: string) => readLimits(manifest, name);

  // The commit log first: event types by seq, and the seq check of every row.
  const types: string[] = [];
  /** seq and step of every committed checkpoint, for the θ table. */
  const checkpoints: { seq: number; step: number }[] = [];
  let seqBroken: string | undefined;
  tables.events = scanTable(fileOf('events'), eventTableSchema('events', layout), caller, limitOf('events'), (batch) => {
    const seq = batch.getChild('seq')!;
    const type = batch.getChild('type')!;
    const step = batch.getChild('step')!;
    for (let i = 0; i < batch.numRows && seqBroken === undefined; i++) {
      if (seq.get(i) !== types.length) seqBroken = `row ${types.length} has seq ${seq.get(i)}, expected ${types.length}`;
      else {
        if (type.get(i) === 'checkpoint') checkpoints.push({ seq: types.length, step: step.get(i) as number });
        types.push(type.get(i) as string);
      }
    }
  });
  if (seqBroken !== undefined) damage.push({ table: 'events', file: tables.events.file, message: `${seqBroken}; the events after it are dropped` });
  const committed = types.length;
  const expectedEvents = closed && manifest.events !== undefined ? manifest.events : committed;
  let intact = committed;
  const numBasis = new Map<number, number>();
  /** seq of the basis event that announced each vector id, and the vector ids of each interval's projections. */
  const announced = new Map<number, number>();
  const projected = new Map<number, Set<number>>();

  for (const name of TABLE_NAMES) {
    const schema = eventTableSchema(name, layout);
    const owners: number[] = [];
    const expected = (seq: number) => ownedRows(name, types[seq], n, numBasis.get(seq));
    for (let s = 0; s < committed; s++) if (expected(s) !== null) owners.push(s);
    let p = 0;
    let firstBad = Infinity;
    let badWhy = '';
    let group = -1;
    let count = 0;
    let lastSeq = -1;
    let uncommitted = 0;
    const bad = (seq: number, why: string) => {
      if (seq < firstBad) {
        firstBad = seq;
        badWhy = why;
      }
    };
    const closeGroup = () => {
      if (group < 0 || group >= committed) return;
      while (p < owners.length && owners[p] < group) {
        const e = expected(owners[p]);
        if (e !== 'any' && e !== 0) bad(owners[p], `event ${owners[p]} (${types[owners[p]]}) has no rows, expected ${e}`);
        p++;
      }
      if (p < owners.length && owners[p] === group) {
        const e = expected(group);
        if (e !== 'any' && e !== count) bad(group, `event ${group} (${types[group]}) has ${count} rows, expected ${e}`);
        p++;
      } else {
        bad(group, `${count} rows of event ${group} (${types[group] ?? 'unknown'}), which has none in this table`);
      }
    };
    const perEvent = PER_EVENT.has(name);
    if (!perEvent) owners.length = 0;
    const check = name === 'events' ? tables.events : scanTable(fileOf(name), schema, caller, limitOf(name), (batch) => {
      const seqColumn = batch.getChild('seq');
      if (!perEvent || seqColumn === null) return;
      const seq = seqColumn.toArray() as Int32Array;
      const k = name === 'intervals' ? batch.getChild('numBasis') : null;
      const ids = name === 'basis' ? batch.getChild('id') : name === 'projections' || name === 'polca' ? batch.getChild('basisId') : null;
      for (let i = 0; i < batch.numRows; i++) {
        const s = seq[i];
        if (!Number.isInteger(s) || s < 0) {
          bad(Math.max(lastSeq, 0), `row with seq ${s}`);
          continue;
        }
        if (s < lastSeq) bad(lastSeq, `row of event ${s} after a row of event ${lastSeq}`);
        lastSeq = Math.max(lastSeq, s);
        if (s >= committed) {
          uncommitted += 1;
          continue;
        }
        if (k) numBasis.set(s, k.get(i) as number);
        if (ids) {
          const id = ids.get(i) as number;
          if (name === 'basis') announced.set(id, Math.min(s, announced.get(id) ?? s));
          else if (name === 'projections') {
            // An interval's vectors are vectors a basis event announced before it.
            if (!((announced.get(id) ?? Infinity) < s)) bad(s, `event ${s} (polca) projects on basis vector ${id}, which no earlier basis event announced`);
            let set = projected.get(s);
            if (!set) projected.set(s, (set = new Set()));
            set.add(id);
          } else if (!projected.get(s)?.has(id)) bad(s, `event ${s} (polca) has terms for basis vector ${id}, which is not among its projections`);
        }
        if (s !== group) {
          closeGroup();
          group = s;
          count = 0;
        }
        count += 1;
      }
    });
    tables[name] = check;
    if (perEvent) {
      closeGroup();
      group = -1;
      const cutShort = stoppedEarly(check) || (closed && check.end !== 'eos');
      // A table that stopped early may have lost the rows of any event after its last intact row.
      while (p < owners.length) {
        const e = expected(owners[p]);
        if (e !== 'any' && e !== 0) bad(owners[p], `event ${owners[p]} (${types[owners[p]]}) has no rows, expected ${e}`);
        else if (cutShort && owners[p] > lastSeq) bad(owners[p], `event ${owners[p]} (${types[owners[p]]}) may have had rows in the part that was dropped`);
        p++;
      }
      if (uncommitted > 0) {
        if (closed) damage.push({ table: name, file: check.file, message: `${uncommitted} rows of events after the last one in the commit log (${committed} events)` });
        else unverified.push(`${check.file}: ${uncommitted} rows of events written after the last commit (an unfinished flush) were ignored`);
      }
    }
    if (manifest.runId !== undefined && check.end !== 'missing' && check.runId !== manifest.runId) {
      damage.push({
        table: name, file: check.file,
        message: check.runId === undefined
          ? `has no run id, but run.json is run ${manifest.runId}: not written with this run; ignored`
          : `belongs to run ${check.runId}, but run.json is run ${manifest.runId} (copied from another run?); ignored`,
      });
      firstBad = Math.min(firstBad, owners[0] ?? Infinity);
      if (name === 'events') intact = 0;
    }
    describeEnd(name, check, closed, manifest, damage, unverified);
    if (firstBad < intact) {
      intact = firstBad;
      if (badWhy) damage.push({ table: name, file: check.file, message: badWhy });
    }
    if (name === 'events' && (check.end === 'missing' || check.end === 'corrupt' || check.end === 'truncated')) intact = Math.min(intact, committed);
  }
  if (closed && manifest.events !== undefined && committed !== manifest.events && tables.events.end !== 'missing') {
    damage.push({ table: 'events', file: tables.events.file, message: `holds ${committed} events, run.json records ${manifest.events}` });
  }
  if (manifest.params) {
    const steps: number[] = [];
    const check = scanTable(fileOf('params'), tableSchema('params', paramsSchema), caller, limitOf('params'), (batch) => {
      const step = batch.getChild('step')!;
      for (let i = 0; i < batch.numRows; i++) steps.push(step.get(i) as number);
    });
    tables.params = check;
    describeEnd('params', check, closed, manifest, damage, unverified);
    if (manifest.runId !== undefined && check.end !== 'missing' && check.runId !== manifest.runId) {
      damage.push({ table: 'params', file: check.file, message: `belongs to run ${check.runId ?? '(none)'}, but run.json is run ${manifest.runId}; ignored` });
    } else if (check.end !== 'missing') {
      // θ of a checkpoint is written when it happens, before the event is committed: row i is the i-th checkpoint's.
      let i = 0;
      while (i < checkpoints.length && i < steps.length && steps[i] === checkpoints[i].step) i++;
      if (i < checkpoints.length && (i < steps.length || !stoppedEarly(check))) {
        const c = checkpoints[i];
        damage.push({
          table: 'params', file: check.file,
          message: i < steps.length
            ? `row ${i} holds θ of step ${steps[i]}, but checkpoint ${i} (event ${c.seq}) is at step ${c.step}`
            : `holds θ of ${steps.length} checkpoints, the commit log has ${checkpoints.length}: θ of event ${c.seq} (step ${c.step}) and later is missing`,
        });
      }
      // A table that stopped early lost the θ of the checkpoints after its last intact row (its end is reported above).
      if (i < checkpoints.length) intact = Math.min(intact, checkpoints[i].seq);
      if (steps.length > checkpoints.length && i === checkpoints.length) {
        const n = steps.length - checkpoints.length;
        const extra = `${n} ${n === 1 ? 'row' : 'rows'} of θ after the last checkpoint in the commit log (${checkpoints.length} checkpoints)`;
        if (closed) damage.push({ table: 'params', file: check.file, message: extra });
        else unverified.push(`${check.file}: ${extra}, written before an unfinished flush, were ignored`);
      }
    }
  }

  const batches = Object.values(tables).reduce((s, t) => s + t.batches, 0);
  const checksummed = Object.values(tables).reduce((s, t) => s + t.checksummed, 0);
  if (manifest.checksum === undefined) {
    unverified.push(`run.json declares no checksums (a run written before them): ${batches - checksummed} of ${batches} batches were not verified`);
  } else if (checksummed < batches) {
    for (const [name, t] of Object.entries(tables)) {
      if (t.checksummed < t.batches) damage.push({ table: name, file: t.file, message: `${t.batches - t.checksummed} of ${t.batches} batches carry no checksum, though run.json declares ${manifest.checksum}` });
    }
    intact = 0;
  }
  if (manifest.runId === undefined) unverified.push('run.json has no run id (a run written before them): tables copied from another run cannot be recognised');
  if (!closed) {
    unverified.push(`run.json status is '${manifest.status}': the run was not closed, so events after the last flush cannot be accounted for (${committed} events read)`);
  }
  return { dir, manifest, tables, committed, expectedEvents, intactEvents: Math.min(intact, committed), damage, unverified };
}

/**
 * Damage at the end of one file: an early stop, a missing marker, sizes that disagree with run.json.
 * A last message cut short in a run that was never closed is what a killed writer leaves: noted, not damage
 * (rows an event needs that are missing are damage all the same, found by the row checks).
 */
function describeEnd(name: string, t: TableCheck, closed: boolean, manifest: RunManifest, damage: RunDamage[], unverified: string[]): void {
  const push = (message: string) => damage.push({ table: name, file: t.file, message });
  const kept = `kept ${t.batches} batches (${t.rows} rows)`;
  if (t.end === 'missing') {
    push(`could not be read: ${t.reason}`);
    return;
  }
  if (t.end === 'truncated' && !closed) {
    unverified.push(`${t.file}: the last message is cut at byte ${t.bytes} (${t.reason}), as a writer stopped during a flush leaves it; ${kept}, ignored ${t.bytes - t.validBytes} bytes`);
  } else if (t.end === 'truncated' || t.end === 'corrupt') {
    push(`${t.end} at byte ${t.validBytes} of ${t.bytes}${t.reason ? ` (${t.reason})` : ''}; ${kept}, dropped ${t.bytes - t.validBytes} bytes`);
  } else if (closed && t.end === 'eof') {
    push(`ends at byte ${t.bytes} without the end-of-stream marker of a closed run (cut at a batch boundary?); ${kept}`);
  }
  const recorded = closed ? manifest.files?.[name] : undefined;
  if (recorded && (recorded.batches !== t.batches || recorded.rows !== t.rows || (recorded.bytes !== t.bytes && t.end === 'eos'))) {
    push(`holds ${t.batches} batches, ${t.rows} rows, ${t.bytes} bytes; run.json records ${recorded.batches} batches, ${recorded.rows} rows, ${recorded.bytes} bytes`);
  }
}

/**
 * Lines describing a {@link RunCheck} for a person: each damage with its
 * file, what could not be verified, and how many events survive.
 *
 * @example
 * ```ts
 * process.stderr.write(describeRunCheck(await verifyRun(dir)).join('\n') + '\n');
 * ```
 */
export function describeRunCheck(check: RunCheck): string[] {
  const lines = check.damage.map((d) => `damaged: ${d.file}: ${d.message}`);
  for (const u of check.unverified) lines.push(`not verified: ${u}`);
  if (check.damage.length > 0) {
    const dropped = check.expectedEvents - check.intactEvents;
    lines.push(`intact: the first ${check.intactEvents} of ${check.expectedEvents} events${dropped > 0 ? `; ${dropped} events dropped (from seq ${check.intactEvents})` : ''}`);
  }
  return lines;
}
