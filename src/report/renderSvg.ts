/**
 * Rendering a Vega-Lite specification to an SVG string in Node.
 *
 * @packageDocumentation
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * Compiles a Vega-Lite spec to Vega and renders it headless to SVG, with no
 * DOM and no loader (specs must carry their data inline). The root element
 * loses its `xmlns` attributes, which inline SVG in HTML does not need, so
 * the report holds no URL of any kind.
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
  try {
    const compiled = compile(spec).spec;
    // A loader that refuses everything: a report never fetches.
    const loader = vega.loader();
    loader.load = async (uri: string) => {
      throw new Error(`renderSvg: the spec asked to load ${JSON.stringify(uri)}; report specs must inline their data`);
    };
    view = new vega.View(vega.parse(compiled), { renderer: 'none', loader });
    const svg = await view.toSVG();
    return svg.replace(/^<svg([^>]*)>/, (_, attrs: string) => `<svg${attrs.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')}>`);
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith('renderSvg:') ? msg : `renderSvg: could not render the chart${spec.title ? ` ${JSON.stringify(spec.title)}` : ''}: ${msg}`);
  } finally {
    view?.finalize();
  }
}
