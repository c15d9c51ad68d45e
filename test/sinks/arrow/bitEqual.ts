/**
 * Strict structural comparison of events: numbers with Object.is (so −0 and
 * NaN count), typed arrays by constructor, length and raw bytes (so NaN
 * payloads count), plain objects by their own keys. Returns the path of the
 * first difference, or null.
 */
export function bitDiff(a: unknown, b: unknown, path = '$'): string | null {
  if (typeof a === 'number' || typeof b === 'number') {
    return typeof a === typeof b && Object.is(a, b) ? null : `${path}: ${String(a)} vs ${String(b)}`;
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b)) return `${path}: typed array vs ${typeof b}`;
    if (a.constructor !== b.constructor) return `${path}: ${a.constructor.name} vs ${b.constructor.name}`;
    if (a.byteLength !== b.byteLength) return `${path}: byteLength ${a.byteLength} vs ${b.byteLength}`;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `${path}: byte ${i} differs (${x[i]} vs ${y[i]})`;
    return null;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${path}: array vs ${typeof b}`;
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = bitDiff(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) return `${path}: keys [${ka}] vs [${kb}]`;
    for (const k of ka) {
      const d = bitDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}
