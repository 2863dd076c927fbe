// The integer hash scripts/fixtures/transformer_fixtures.py draws its weights and inputs from,
// repeated exactly here so the fixture need not store them.

/** The fixture script's `hashed`: count numbers in [-0.5, 0.5) from a 32-bit integer hash of (stream, index). */
export function hashed(stream: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let h = (Math.imul(i, 2654435761 | 0) + stream * 40503 + 12345) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    h = Math.imul(h, 0x45d9f3b) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    h = Math.imul(h, 0x45d9f3b) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    out[i] = h / 2 ** 32 - 0.5;
  }
  return out;
}
