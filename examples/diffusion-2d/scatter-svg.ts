// A dependency-free SVG scatter plot: one panel per point set, side by side, same axes.

export interface Panel {
  title: string;
  /** interleaved x, y */
  points: ArrayLike<number>;
  color: string;
}

export interface ScatterOptions {
  /** half-width of the square plotting window, in data units */
  extent: number;
  /** side of each panel in pixels */
  size?: number;
  /** centres drawn as small crosses on every panel */
  marks?: [number, number][];
  caption?: string;
}

export function scatterSvg(panels: Panel[], options: ScatterOptions): string {
  const size = options.size ?? 320;
  const pad = 24;
  const width = panels.length * (size + pad) + pad;
  const height = size + 2 * pad + (options.caption ? 18 : 0);
  const px = (v: number) => ((v + options.extent) / (2 * options.extent)) * size;
  const py = (v: number) => size - px(v);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  panels.forEach((panel, p) => {
    const x0 = pad + p * (size + pad);
    parts.push(`<g transform="translate(${x0},${pad})">`);
    parts.push(`<rect width="${size}" height="${size}" fill="none" stroke="#999"/>`);
    parts.push(`<text x="${size / 2}" y="-8" text-anchor="middle">${escapeXml(panel.title)}</text>`);
    const dots: string[] = [];
    for (let i = 0; i + 1 < panel.points.length; i += 2) {
      const x = px(panel.points[i]!);
      const y = py(panel.points[i + 1]!);
      // Points outside the window are clipped rather than drawn on the border.
      if (x < 0 || x > size || y < 0 || y > size) continue;
      dots.push(`M${x.toFixed(1)} ${y.toFixed(1)}h0`);
    }
    parts.push(`<path d="${dots.join('')}" stroke="${panel.color}" stroke-opacity="0.5" stroke-width="2.5" stroke-linecap="round"/>`);
    for (const [cx, cy] of options.marks ?? []) {
      const x = px(cx);
      const y = py(cy);
      parts.push(`<path d="M${(x - 4).toFixed(1)} ${y.toFixed(1)}h8M${x.toFixed(1)} ${(y - 4).toFixed(1)}v8" stroke="black" stroke-width="1"/>`);
    }
    parts.push('</g>');
  });
  if (options.caption) parts.push(`<text x="${pad}" y="${height - 8}">${escapeXml(options.caption)}</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
