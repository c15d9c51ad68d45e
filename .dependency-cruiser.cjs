/**
 * The layers of polca, bottom to top. A module may import from its own
 * layer's folders and from layers below, never from above.
 *   0  engine/, errors/, stream/ (the event types), version.ts
 *   1  tracker/
 *   2  sinks/, serve/, analysis/
 *   3  run/ (the wiring of a run, with the callback)
 *   4  cli/, report/ and the entry points
 * `test/package/layering.test.ts` runs these rules and also checks that the
 * folder graph has no cycle.
 */
function rulesFor(root) {
  const layer0 = `^${root}/(engine|errors|stream)/|^${root}/version\\.ts$`;
  const layer1 = `^${root}/tracker/`;
  const layer2 = `^${root}/(sinks|serve|analysis)/`;
  const layer3 = `^${root}/run/`;
  const layer4 = `^${root}/(cli|report)/|^${root}/index\\.ts$`;
  return [
    { name: 'no-circular', severity: 'error', comment: 'no import cycle between files', from: { path: `^${root}/` }, to: { circular: true } },
    { name: 'layer0-up', severity: 'error', comment: 'engine, errors and event types import nothing above them', from: { path: layer0 }, to: { path: [layer1, layer2, layer3, layer4] } },
    { name: 'layer1-up', severity: 'error', comment: 'the tracker never imports sinks, serving, analysis or run wiring', from: { path: layer1 }, to: { path: [layer2, layer3, layer4] } },
    { name: 'layer2-up', severity: 'error', comment: 'sinks, serve and analysis never import the run wiring, cli or report', from: { path: layer2 }, to: { path: [layer3, layer4] } },
    { name: 'layer3-up', severity: 'error', comment: 'the run wiring never imports cli or report', from: { path: layer3 }, to: { path: layer4 } },
    {
      name: 'no-unlayered',
      severity: 'error',
      comment: 'every source file in a folder sits in a layer',
      from: { path: `^${root}/`, pathNot: [layer0, layer1, layer2, layer3, layer4, `^${root}/[^/]+\\.ts$`] },
      to: {},
    },
  ];
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: rulesFor('src'),
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/serve/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
// For the layering test, which also runs the rules on a fixture with a known violation.
Object.defineProperty(module.exports, 'rulesFor', { value: rulesFor, enumerable: false });
