// A heat map of a function sampled on a rectangular grid, with marked points on top: the
// task metric over the plane spanned by two directions in parameter space (the landscape
// of multimodality), with the generated samples and the starting point marked.
import { frameFields, renderSvg, requireNonEmpty, type ChartFrame, type TopLevelSpec } from './render.js';

export interface MarkedPoint {
  readonly x: number;
  readonly y: number;
  /** Legend entry of the point's kind, e.g. "G.pt sample", "start". */
  readonly kind: string;
  /** Optional text drawn beside the point. */
  readonly label?: string;
}

export interface HeatmapOptions extends ChartFrame {
  readonly xTitle: string;
  readonly yTitle: string;
  /** Title of the colour legend, e.g. "test error (%)". */
  readonly valueTitle: string;
  /** Grid coordinates along x and y, strictly increasing. */
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  /** values[j][i] is the value at (xs[i], ys[j]); non-finite cells are left blank. */
  readonly values: readonly (readonly number[])[];
  readonly points?: readonly MarkedPoint[];
  /** Colour scheme (a Vega scheme name; default "viridis"). */
  readonly scheme?: string;
  /** Reverse the scheme, e.g. so that the better (lower) values are bright. */
  readonly reverse?: boolean;
}

/** The Vega-Lite spec: one rect per grid cell, spanning halfway to its neighbours, then the points. */
export function heatmapSpec(options: HeatmapOptions): TopLevelSpec {
  const { xs, ys, values } = options;
  requireNonEmpty('heatmap', 'xs', xs);
  requireNonEmpty('heatmap', 'ys', ys);
  checkIncreasing('xs', xs);
  checkIncreasing('ys', ys);
  if (values.length !== ys.length) throw new Error(`heatmap: values has ${values.length} rows, expected one per y (${ys.length})`);
  values.forEach((row, j) => {
    if (row.length !== xs.length) throw new Error(`heatmap: values[${j}] has ${row.length} entries, expected one per x (${xs.length})`);
  });
  const xEdges = cellEdges(xs);
  const yEdges = cellEdges(ys);
  const cells = values.flatMap((row, j) =>
    row.map((value, i) => ({ x: xEdges[i]!, x2: xEdges[i + 1]!, y: yEdges[j]!, y2: yEdges[j + 1]!, value })),
  );
  const colorScale = { scheme: options.scheme ?? 'viridis', reverse: options.reverse ?? false };
  const xScale = { domain: [xEdges[0]!, xEdges[xs.length]!], nice: false, zero: false };
  const yScale = { domain: [yEdges[0]!, yEdges[ys.length]!], nice: false, zero: false };
  const layers: object[] = [
    {
      data: { values: cells },
      mark: { type: 'rect', strokeWidth: 0.6 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: options.xTitle, scale: xScale, axis: { grid: false } },
        x2: { field: 'x2' },
        y: { field: 'y', type: 'quantitative', title: options.yTitle, scale: yScale, axis: { grid: false } },
        y2: { field: 'y2' },
        color: { field: 'value', type: 'quantitative', title: options.valueTitle, scale: colorScale },
        // A thin outline in the cell's own colour hides the anti-aliasing seams between cells.
        stroke: { field: 'value', type: 'quantitative', scale: colorScale, legend: null },
      },
    },
  ];
  const points = options.points ?? [];
  if (points.length > 0) {
    const kinds = [...new Set(points.map((p) => p.kind))];
    const rows = points.map((p) => ({ x: p.x, y: p.y, kind: p.kind, label: p.label ?? '' }));
    const position = { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } };
    layers.push({
      data: { values: rows },
      mark: { type: 'point', filled: true, size: 90, stroke: 'white', strokeWidth: 1.5, clip: true },
      encoding: { ...position, shape: { field: 'kind', type: 'nominal', title: 'points', sort: kinds }, fill: { value: '#e4572e' } },
    });
    if (rows.some((r) => r.label !== '')) {
      layers.push({
        data: { values: rows },
        mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 10, color: 'white', clip: true },
        encoding: { ...position, text: { field: 'label' } },
      });
    }
  }
  return { ...frameFields(options), layer: layers, resolve: { scale: { color: 'independent' } } } as TopLevelSpec;
}

export async function heatmap(options: HeatmapOptions): Promise<string> {
  return renderSvg(heatmapSpec(options));
}

/** Cell boundaries halfway between grid coordinates (the outer cells as wide as their neighbour's half-gap). */
export function cellEdges(coords: readonly number[]): number[] {
  if (coords.length === 1) return [coords[0]! - 0.5, coords[0]! + 0.5];
  const edges = [coords[0]! - (coords[1]! - coords[0]!) / 2];
  for (let i = 0; i + 1 < coords.length; i++) edges.push((coords[i]! + coords[i + 1]!) / 2);
  const n = coords.length;
  edges.push(coords[n - 1]! + (coords[n - 1]! - coords[n - 2]!) / 2);
  return edges;
}

function checkIncreasing(name: string, coords: readonly number[]): void {
  coords.forEach((c, i) => {
    if (!Number.isFinite(c)) throw new Error(`heatmap: ${name}[${i}] is ${c}; grid coordinates must be finite`);
    if (i > 0 && !(c > coords[i - 1]!)) throw new Error(`heatmap: ${name} must be strictly increasing (${name}[${i - 1}] = ${coords[i - 1]}, ${name}[${i}] = ${c})`);
  });
}
