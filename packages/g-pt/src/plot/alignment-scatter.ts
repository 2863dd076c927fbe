// The "desired vs observed" chart of prompt alignment (gpt-paper.md §5.2): each network's
// achieved metric against its prompts, one colour per network, and the line y = x where a
// perfectly aligned model would lie.
import { frameFields, renderSvg, requireNonEmpty, type ChartFrame, type TopLevelSpec } from './render.js';

export interface AlignmentPoint {
  /** The prompted (desired) metric. */
  readonly desired: number;
  /** The metric measured on the generated network. */
  readonly observed: number;
  /** Which network (or run) the point belongs to: one line and legend entry per group. */
  readonly group?: string;
}

export interface AlignmentScatterOptions extends ChartFrame {
  readonly points: readonly AlignmentPoint[];
  /** Axis titles, e.g. "prompted test error (%)" and "achieved test error (%)". */
  readonly desiredTitle: string;
  readonly observedTitle: string;
  /** Legend title of the groups (default "network"). */
  readonly groupTitle?: string;
}

const IDEAL_LABEL = 'y = x (perfect alignment)';

/**
 * The Vega-Lite spec: per group, points joined in prompt order; the y = x line spans the
 * range of both axes (finite values only) and has its own legend entry.
 */
export function alignmentScatterSpec(options: AlignmentScatterOptions): TopLevelSpec {
  requireNonEmpty('alignmentScatter', 'points', options.points);
  const rows = options.points.map((p) => ({ desired: p.desired, observed: p.observed, group: p.group ?? 'all' }));
  const finite = rows.flatMap((r) => [r.desired, r.observed]).filter(Number.isFinite);
  if (finite.length === 0) throw new Error('alignmentScatter: no finite desired or observed value to plot');
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  const groups = [...new Set(rows.map((r) => r.group))];
  const x = { field: 'desired', type: 'quantitative' as const, title: options.desiredTitle, scale: { zero: false } };
  const y = { field: 'observed', type: 'quantitative' as const, title: options.observedTitle, scale: { zero: false } };
  return {
    ...frameFields(options),
    layer: [
      {
        data: { values: [{ desired: low, observed: low, line: IDEAL_LABEL }, { desired: high, observed: high, line: IDEAL_LABEL }] },
        mark: { type: 'line', color: '#444', strokeDash: [6, 4] },
        encoding: { x, y, strokeDash: { field: 'line', type: 'nominal', title: 'reference' } },
      },
      {
        data: { values: rows },
        mark: { type: 'line', point: true, opacity: 0.85 },
        encoding: { x, y, color: { field: 'group', type: 'nominal', title: options.groupTitle ?? 'network', sort: groups }, order: { field: 'desired', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

export async function alignmentScatter(options: AlignmentScatterOptions): Promise<string> {
  return renderSvg(alignmentScatterSpec(options));
}
