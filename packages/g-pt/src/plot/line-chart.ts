// Line charts with several named series: loss curves, G.pt vs Adam/SGD curves, the metric
// along a latent walk. Optional reference lines mark constants (e.g. "one G.pt update").
import { frameFields, renderSvg, requireNonEmpty, type ChartFrame, type TopLevelSpec } from './render.js';

export interface LinePoint {
  readonly x: number;
  readonly y: number;
}

export interface LineSeries {
  /** Legend entry. */
  readonly name: string;
  readonly points: readonly LinePoint[];
}

/** A horizontal (y) or vertical (x) reference line with its label in the legend. */
export interface ReferenceLine {
  readonly label: string;
  /** Draws a horizontal line at this y. */
  readonly y?: number;
  /** Draws a vertical line at this x. */
  readonly x?: number;
}

export type AxisScale = 'linear' | 'log' | 'symlog';

export interface LineChartOptions extends ChartFrame {
  readonly xTitle: string;
  readonly yTitle: string;
  readonly series: readonly LineSeries[];
  readonly references?: readonly ReferenceLine[];
  readonly xScale?: AxisScale;
  readonly yScale?: AxisScale;
  /** Legend title (default "series"). */
  readonly legendTitle?: string;
  /** Draw a dot at every point (default true). */
  readonly points?: boolean;
}

/**
 * The Vega-Lite spec of a line chart: one coloured line per series, in the given order.
 * Points with a non-finite coordinate are left out (Vega filters invalid values), so a
 * diverged run does not hide the other series.
 */
export function lineChartSpec(options: LineChartOptions): TopLevelSpec {
  requireNonEmpty('lineChart', 'series', options.series);
  checkUniqueNames('lineChart', options.series.map((s) => s.name));
  const names = options.series.map((s) => s.name);
  const rows = options.series.flatMap((s) => s.points.map((p, order) => ({ series: s.name, x: p.x, y: p.y, order })));
  const legendTitle = options.legendTitle ?? 'series';
  const lines = {
    data: { values: rows },
    mark: { type: 'line' as const, point: options.points ?? true, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative' as const, title: options.xTitle, scale: axisScale(options.xScale) },
      y: { field: 'y', type: 'quantitative' as const, title: options.yTitle, scale: axisScale(options.yScale) },
      color: { field: 'series', type: 'nominal' as const, title: legendTitle, sort: names },
      order: { field: 'order', type: 'quantitative' as const },
    },
  };
  const layers: object[] = [lines, ...referenceLayers(options.references ?? [])];
  return { ...frameFields(options), layer: layers, resolve: { scale: { strokeDash: 'independent' } } } as TopLevelSpec;
}

/** Renders lineChartSpec to SVG text. */
export async function lineChart(options: LineChartOptions): Promise<string> {
  return renderSvg(lineChartSpec(options));
}

/** Rule layers for the reference lines: dashed, grey, labelled through a strokeDash legend. */
export function referenceLayers(references: readonly ReferenceLine[]): object[] {
  if (references.length === 0) return [];
  for (const r of references) {
    if ((r.x === undefined) === (r.y === undefined)) throw new Error(`reference line "${r.label}": give exactly one of x and y`);
    const v = (r.x ?? r.y)!;
    if (!Number.isFinite(v)) throw new Error(`reference line "${r.label}": position must be finite, got ${v}`);
  }
  const labels = references.map((r) => r.label);
  const dash = { field: 'label', type: 'nominal' as const, title: 'reference', sort: labels };
  const horizontal = references.filter((r) => r.y !== undefined).map((r) => ({ label: r.label, y: r.y }));
  const vertical = references.filter((r) => r.x !== undefined).map((r) => ({ label: r.label, x: r.x }));
  const layers: object[] = [];
  if (horizontal.length > 0) {
    layers.push({
      data: { values: horizontal },
      mark: { type: 'rule', color: '#555', strokeWidth: 1.5 },
      encoding: { y: { field: 'y', type: 'quantitative' }, strokeDash: dash },
    });
  }
  if (vertical.length > 0) {
    layers.push({
      data: { values: vertical },
      mark: { type: 'rule', color: '#555', strokeWidth: 1.5 },
      encoding: { x: { field: 'x', type: 'quantitative' }, strokeDash: dash },
    });
  }
  return layers;
}

export function checkUniqueNames(chart: string, names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new Error(`${chart}: two series are named "${name}"; legend entries must differ`);
    seen.add(name);
  }
}

/** A quantitative scale that does not force zero into the domain (zero applies to linear scales only). */
export function axisScale(type: AxisScale = 'linear'): { type: AxisScale; zero?: boolean } {
  return type === 'linear' ? { type, zero: false } : { type };
}
