// Packing: copies a block of op(A) or op(B) into the panel layout the micro-kernel
// streams through (A: MR rows interleaved per k step; B: NR columns per k step),
// zero-padding ragged edges. Operands are described by element strides, so the
// transposed variants (A^T, B^T) are just other strides: no transposed copies.

import { MR, NR } from './microkernel';

/** 4x4 transpose of four v128 rows, written as four consecutive v128 columns at `dst`. */
@inline function storeTransposed4(dst: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<i32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst, v128.shuffle<i32>(t0, t1, 2, 3, 6, 7), 16);
  v128.store(dst, v128.shuffle<i32>(t2, t3, 0, 1, 4, 5), 32);
  v128.store(dst, v128.shuffle<i32>(t2, t3, 2, 3, 6, 7), 48);
}

/**
 * Packs op(A)[i0 : i0+mc, p0 : p0+kc] into ceil(mc/MR) panels of kc x MR floats.
 * op(A)(i, p) lives at a + (i*rs + p*cs)*4.
 */
export function packA(a: usize, rs: i32, cs: i32, i0: i32, p0: i32, mc: i32, kc: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const origin = a + ((<usize>(i0 + ir) * rs + <usize>p0 * cs) << 2);
    if (rows == MR && cs == 1) {
      // Row-major A: four contiguous rows, transposed four k steps at a time.
      const r = <usize>rs << 2;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const src = origin + (<usize>p << 2);
        storeTransposed4(dst + (<usize>p << 4), v128.load(src), v128.load(src + r), v128.load(src + 2 * r), v128.load(src + 3 * r));
      }
      for (; p < kc; p++) {
        const src = origin + (<usize>p << 2);
        const d = dst + (<usize>p << 4);
        store<f32>(d, load<f32>(src));
        store<f32>(d, load<f32>(src + r), 4);
        store<f32>(d, load<f32>(src + 2 * r), 8);
        store<f32>(d, load<f32>(src + 3 * r), 12);
      }
    } else if (rows == MR && rs == 1) {
      // A^T stored row-major: the MR values of one k step are contiguous.
      const c = <usize>cs << 2;
      for (let p = 0; p < kc; p++) v128.store(dst + (<usize>p << 4), v128.load(origin + <usize>p * c));
    } else {
      for (let p = 0; p < kc; p++) {
        const d = dst + (<usize>(p * MR) << 2);
        for (let i = 0; i < MR; i++) {
          store<f32>(d + (<usize>i << 2), i < rows ? load<f32>(origin + ((<usize>i * rs + <usize>p * cs) << 2)) : 0);
        }
      }
    }
    dst += <usize>(MR * kc) << 2;
  }
}

/**
 * Packs op(B)[p0 : p0+kc, j0 : j0+nc] into ceil(nc/NR) panels of kc x NR floats.
 * op(B)(p, j) lives at b + (p*rs + j*cs)*4.
 */
export function packB(b: usize, rs: i32, cs: i32, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const origin = b + ((<usize>p0 * rs + <usize>(j0 + jr) * cs) << 2);
    if (cols == NR && cs == 1) {
      // Row-major B: each k step is eight contiguous values.
      const r = <usize>rs << 2;
      for (let p = 0; p < kc; p++) {
        const src = origin + <usize>p * r;
        const d = dst + (<usize>p << 5);
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
      }
    } else if (cols == NR && rs == 1) {
      // B^T stored row-major: eight contiguous rows of k, transposed four k steps at a time.
      const c = <usize>cs << 2;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const src = origin + (<usize>p << 2);
        const d = dst + (<usize>p << 5);
        const r0 = v128.load(src), r1 = v128.load(src + c), r2 = v128.load(src + 2 * c), r3 = v128.load(src + 3 * c);
        const r4 = v128.load(src + 4 * c), r5 = v128.load(src + 5 * c), r6 = v128.load(src + 6 * c), r7 = v128.load(src + 7 * c);
        // Columns 0-3 then 4-7 of each of the four k steps, interleaved into 8-wide rows.
        const lo0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), lo1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
        const hi0 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7), hi1 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
        const lo2 = v128.shuffle<i32>(r4, r5, 0, 4, 1, 5), lo3 = v128.shuffle<i32>(r6, r7, 0, 4, 1, 5);
        const hi2 = v128.shuffle<i32>(r4, r5, 2, 6, 3, 7), hi3 = v128.shuffle<i32>(r6, r7, 2, 6, 3, 7);
        v128.store(d, v128.shuffle<i32>(lo0, lo1, 0, 1, 4, 5));
        v128.store(d, v128.shuffle<i32>(lo2, lo3, 0, 1, 4, 5), 16);
        v128.store(d, v128.shuffle<i32>(lo0, lo1, 2, 3, 6, 7), 32);
        v128.store(d, v128.shuffle<i32>(lo2, lo3, 2, 3, 6, 7), 48);
        v128.store(d, v128.shuffle<i32>(hi0, hi1, 0, 1, 4, 5), 64);
        v128.store(d, v128.shuffle<i32>(hi2, hi3, 0, 1, 4, 5), 80);
        v128.store(d, v128.shuffle<i32>(hi0, hi1, 2, 3, 6, 7), 96);
        v128.store(d, v128.shuffle<i32>(hi2, hi3, 2, 3, 6, 7), 112);
      }
      for (; p < kc; p++) {
        const d = dst + (<usize>p << 5);
        for (let j = 0; j < NR; j++) store<f32>(d + (<usize>j << 2), load<f32>(origin + (<usize>p << 2) + <usize>j * c));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = dst + (<usize>(p * NR) << 2);
        for (let j = 0; j < NR; j++) {
          store<f32>(d + (<usize>j << 2), j < cols ? load<f32>(origin + ((<usize>p * rs + <usize>j * cs) << 2)) : 0);
        }
      }
    }
    dst += <usize>(NR * kc) << 2;
  }
}
