// Vega-Lite specs -> SVG text, in Node or a browser, without a DOM: the spec is compiled
// to a Vega spec and rendered by a headless Vega View (renderer 'none') through its SVG
// string renderer. Every chart of the package goes through here, so axes, legends and
// scales come from the charting library rather than hand-written SVG.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec } from 'vega-lite';

/** Renders a Vega-Lite spec to a standalone SVG document (text). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vegaSpec = compile(spec).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The size and title every chart takes. */
export interface ChartFrame {
  /** Title above the chart. */
  readonly title?: string;
  /** Plot area width in pixels (default 480). */
  readonly width?: number;
  /** Plot area height in pixels (default 320). */
  readonly height?: number;
}

export const DEFAULT_WIDTH = 480;
export const DEFAULT_HEIGHT = 320;

/** The top-level fields every spec shares: schema, title, size, a white background. */
export function frameFields(frame: ChartFrame): { $schema: string; title?: string; width: number; height: number } & typeof SHARED_FIELDS {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    ...(frame.title === undefined ? {} : { title: frame.title }),
    width: checkSize('width', frame.width ?? DEFAULT_WIDTH),
    height: checkSize('height', frame.height ?? DEFAULT_HEIGHT),
    ...SHARED_FIELDS,
  };
}

/** A white background, and legend labels never cut short (they name series the reader must tell apart). */
export const SHARED_FIELDS = { background: 'white', config: { legend: { labelLimit: 0 } } } as const;

function checkSize(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`plot: ${name} must be a positive number of pixels, got ${value}`);
  return value;
}

/** Throws when `values` is empty, naming the chart and the argument. */
export function requireNonEmpty<T>(chart: string, name: string, values: readonly T[]): void {
  if (values.length === 0) throw new Error(`${chart}: ${name} is empty; nothing to plot`);
}
