// Arrow → CSV for recluster.R, read with apache-arrow alone (nothing of polca's own code):
//   node examples/arithmetic/independent/export.mjs <demo-run> [<basis-kind>] <out-dir>
// Writes the POLCA terms of the compared basis's polca.ipc (an Arrow IPC file) and of the main run's,
// the labels, the exact losses and polca's own cluster memberships (for the adjusted Rand index).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const arrow = require('apache-arrow');
const [run, kind, out] = process.argv.length === 5 ? process.argv.slice(2) : [process.argv[2], 'gradient-covariance', process.argv[3]];
if (!run || !out) {
  console.error('usage: node export.mjs <demo-run> [<basis-kind>] <out-dir>');
  process.exit(2);
}
const basis = path.join(run, 'bases', kind);
fs.mkdirSync(out, { recursive: true });

function* rows(file) {
  // readAll takes the IPC file format (polca.ipc) and the stream format (.arrows) alike.
  for (const reader of arrow.RecordBatchReader.readAll(fs.readFileSync(file))) {
    for (const batch of reader) {
      const names = batch.schema.fields.map((f) => f.name);
      const cols = names.map((n) => batch.getChild(n));
      for (let i = 0; i < batch.numRows; i++) yield Object.fromEntries(names.map((n, j) => [n, cols[j].get(i)]));
    }
  }
}

function csvValue(v) {
  if (typeof v === 'bigint') return String(Number(v));
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'string') return `"${v}"`;
  if (typeof v === 'number' && !Number.isInteger(v)) return v.toPrecision(9);
  return String(v);
}

// Memberships are optional (only for the adjusted Rand index); every other file must be there.
function dump(file, name, cols, optional = false) {
  if (!fs.existsSync(file)) {
    if (optional) return;
    console.error(`${file} is missing: is ${run} a finished demo run with a ${kind} basis?`);
    process.exit(1);
  }
  const lines = [cols.join(',')];
  for (const r of rows(file)) lines.push(cols.map((c) => csvValue(r[c])).join(','));
  fs.writeFileSync(path.join(out, name), lines.join('\n') + '\n');
  console.log(`${name}: ${lines.length - 1} rows from ${file}`);
}

const terms = ['fromStep', 'toStep', 'basisId', 'datapoint', 'value', 'firstOrder'];
const memberships = ['kind', 'basisId', 'clusterId', 'datapoint'];
dump(path.join(basis, 'polca.ipc'), 'compared_polca.csv', terms);
dump(path.join(run, 'polca.ipc'), 'hessian_polca.csv', terms);
dump(path.join(run, 'labels.arrows'), 'labels.csv', ['datapoint', 'text', 'target', 'place', 'carry']);
dump(path.join(run, 'losses.arrows'), 'losses.csv', ['step', 'datapoint', 'loss']);
dump(path.join(basis, 'analysis', 'clusters.arrows'), 'compared_clusters.csv', memberships, true);
dump(path.join(run, 'analysis', 'clusters.arrows'), 'hessian_clusters.csv', memberships, true);
