/**
 * Rendering a Vega-Lite specification to an SVG string in Node.
 *
 * @packageDocumentation
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Path coordinates to 0.1 px: invisible on screen, and a third less text (paths are most of a report). */
function roundPath(d: string): string {
  return d.replace(/-?\d+\.\d{2,}/g, (v) => String(Math.round(Number(v) * 10) / 10));
}

/**
 * Compiles a Vega-Lite spec to Vega and renders it headless to SVG, with no
 * DOM and no loader (specs must carry their data inline). Nothing is printed:
 * Vega and Vega-Lite log to a private logger, and an error logged while
 * rendering (a failed load, a bad expression) makes the call fail. The root element
 * loses its `xmlns` attributes, which inline SVG in HTML does not need, so
 * the report holds no URL of any kind; path coordinates are rounded to 0.1 px.
 *
 * @throws Error naming `renderSvg` when the spec does not compile or render.
 * @example
 * ```ts
 * const svg = await renderSvg({ data: { values: [{ x: 1, y: 2 }] }, mark: 'point',
 *   encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } });
 * svg.startsWith('<svg'); // true
 * ```
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  let view: vega.View | undefined;
  const errors: string[] = [];
  // Library code prints nothing: warnings (such as an empty extent) are dropped, errors collected.
  const logger = vega.logger(vega.Warn, undefined, (method, _level, args) => {
    if (method === 'error') errors.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  });
  try {
    const compiled = compile(spec, { logger }).spec;
    // A loader that refuses everything: a report never fetches.
    const loader = vega.loader();
    loader.load = async (uri: string) => {
      // Vega reports a failed load only as a warning, so the refusal is recorded here too.
      const msg = `renderSvg: the spec asked to load ${JSON.stringify(uri)}; report specs must inline their data`;
      errors.push(msg);
      throw new Error(msg);
    };
    view = new vega.View(vega.parse(compiled), { renderer: 'none', loader, logger });
    const svg = await view.toSVG();
    if (errors.length > 0) throw new Error(errors[0]);
    return svg
      .replace(/^<svg([^>]*)>/, (_, attrs: string) => `<svg${attrs.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')}>`)
      .replace(/ d="([^"]*)"/g, (_, d: string) => ` d="${roundPath(d)}"`);
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith('renderSvg:') ? msg : `renderSvg: could not render the chart${spec.title ? ` ${JSON.stringify(spec.title)}` : ''}: ${msg}`);
  } finally {
    view?.finalize();
  }
}
