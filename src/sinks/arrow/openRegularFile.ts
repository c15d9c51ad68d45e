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
export function openRegularFile(file: string, caller: string, what = 'table file'): number {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (fs.constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    throw new RunFormatError(`${caller}: cannot read ${what} ${JSON.stringify(file)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    fs.closeSync(fd);
    throw new RunFormatError(`${caller}: ${what} ${JSON.stringify(file)} is not a regular file; refused`);
  }
  return fd;
}

/**
 * Read a whole small file of a run directory (run.json), opened as
 * {@link openRegularFile} does and refused unread when larger than `maxBytes`.
 *
 * @throws RunFormatError naming the file when it is missing, not a regular file or too large.
 * @example
 * ```ts
 * const text = readRegularFile('runs/arith/run.json', 'replay', 64 * 1024 * 1024, 'manifest').toString('utf8');
 * ```
 */
export function readRegularFile(file: string, caller: string, maxBytes: number, what = 'file'): Buffer {
  const fd = openRegularFile(file, caller, what);
  try {
    const size = fs.fstatSync(fd).size;
    if (size > maxBytes) throw new RunFormatError(`${caller}: ${what} ${JSON.stringify(file)} has ${size} bytes, more than ${maxBytes}; refused`);
    const out = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = fs.readSync(fd, out, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return out.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}
