// A dependency-free SVG line chart of return against PPO iteration: one polyline per run,
// a dashed line at the target, axes with round ticks.

export interface Curve {
  label: string;
  /** mean return after each iteration (NaN where no episode had finished yet) */
  returns: readonly number[];
  color: string;
}

export interface ReturnCurveOptions {
  title: string;
  /** horizontal reference line, e.g. 475 */
  target?: number;
  /** top of the y axis (default 500, CartPole-v1's most) */
  maxReturn?: number;
  width?: number;
  height?: number;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A step of 1, 2 or 5 times a power of ten giving about `count` ticks over [0, max]. */
function tickStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
}

export function returnCurveSvg(curves: readonly Curve[], options: ReturnCurveOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const maxReturn = options.maxReturn ?? 500;
  const left = 52;
  const right = 16;
  const top = 30;
  const bottom = 40 + 16 * Math.ceil(curves.length / 4);
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const iterations = Math.max(1, ...curves.map((c) => c.returns.length));
  const px = (iteration: number) => left + (iteration / iterations) * plotW;
  const py = (value: number) => top + plotH - (Math.min(Math.max(value, 0), maxReturn) / maxReturn) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  ];
  const yStep = tickStep(maxReturn, 5);
  for (let v = 0; v <= maxReturn + 1e-9; v += yStep) {
    parts.push(`<path d="M${left - 4} ${py(v).toFixed(1)}h4" stroke="#999"/><text x="${left - 7}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
  }
  const xStep = tickStep(iterations, 6);
  for (let i = 0; i <= iterations + 1e-9; i += xStep) {
    parts.push(`<path d="M${px(i).toFixed(1)} ${top + plotH}v4" stroke="#999"/><text x="${px(i).toFixed(1)}" y="${top + plotH + 17}" text-anchor="middle">${i}</text>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 32}" text-anchor="middle">PPO iteration</text>`);
  parts.push(`<text transform="translate(14,${top + plotH / 2}) rotate(-90)" text-anchor="middle">mean return (last 200 episodes)</text>`);
  if (options.target !== undefined) {
    parts.push(`<path d="M${left} ${py(options.target).toFixed(1)}h${plotW}" stroke="#888" stroke-dasharray="5 4"/>`);
  }
  curves.forEach((curve, c) => {
    // Iteration i's value is plotted at x = i + 1 (after that many updates); NaNs break the line.
    const segments: string[] = [];
    let pen = 'M';
    curve.returns.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        pen = 'M';
        return;
      }
      segments.push(`${pen}${px(i + 1).toFixed(1)} ${py(v).toFixed(1)}`);
      pen = 'L';
    });
    parts.push(`<path d="${segments.join('')}" fill="none" stroke="${curve.color}" stroke-width="1.5"/>`);
    const lx = left + (c % 4) * (plotW / 4);
    const ly = top + plotH + 48 + 16 * Math.floor(c / 4);
    parts.push(`<path d="M${lx} ${ly - 4}h16" stroke="${curve.color}" stroke-width="2"/><text x="${lx + 20}" y="${ly}">${escapeXml(curve.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
