/**
 * Opening a file of a run directory that may come from someone else.
 *
 * @packageDocumentation
 */
import fs from 'node:fs';
import { RunFormatError } from './RunFormatError.js';

/**
 * Open a table file for reading, refusing anything but a regular file.
 * `O_NONBLOCK` keeps the open of a FIFO from waiting for a writer and
 * `O_NOFOLLOW` refuses a symbolic link; the file type is then checked on
 * the descriptor itself, so a path swapped after a check cannot slip through.
 *
 * @throws RunFormatError naming the file when it is missing or not a regular file.
 * @example
 * ```ts
 * const fd = openRegularFile('runs/arith/events.arrows', 'replay');
 * ```
 */
export function openRegularFile(file: string, caller: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (fs.constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    throw new RunFormatError(`${caller}: cannot read table file ${JSON.stringify(file)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    fs.closeSync(fd);
    throw new RunFormatError(`${caller}: table file ${JSON.stringify(file)} is not a regular file; refused`);
  }
  return fd;
}
