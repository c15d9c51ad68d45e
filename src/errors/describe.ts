/** Short description of a value for error messages: what it is, not its whole content. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  // Recognised by shape, not by class, so that error messages need no tfjs import (the Arrow and
  // serving modules use them too) and tensors of another tfjs copy are described alike.
  if (isTensorLike(value)) return `a ${value.dtype} tensor of shape [${value.shape}]`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function isTensorLike(value: unknown): value is { dtype: string; shape: number[] } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { dtype?: unknown; shape?: unknown; dataId?: unknown };
  return typeof v.dtype === 'string' && Array.isArray(v.shape) && v.dataId !== undefined;
}
