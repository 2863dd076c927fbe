// The GEMM micro-kernel: a 4x8 block of C held in eight v128 registers while it
// accumulates kc rank-1 updates from packed panels of A (4 values per step, read as
// broadcasts) and B (8 values per step). Eight accumulators, two B vectors, one
// broadcast and one product fit V8's 15 allocatable xmm registers on x64 without
// spilling. Measured on packed panels in L1 (development machine, AMD EPYC):
// 4x8 ran ~35 GFLOP/s, 6x8 ~26, 5x8 ~22, 8x4 ~18. The ceiling is the 128-bit vector
// width, not the missing FMA: that CPU issues two multiplies and two adds of four
// lanes per cycle, as many flops as two FMAs. Relaxed SIMD's f32x4.relaxed_madd
// (fused there) measured the same: ~55 GFLOP/s peak either way in a register-only
// loop, and 512^3 / 1024^3 GEMMs within 1% of this kernel.

export const MR: i32 = 4;
export const NR: i32 = 8;

/**
 * C[0:4, 0:8] (+)= Apanel[kc x 4]^T . Bpanel[kc x 8]. `c` and `ldc` are in bytes;
 * `overwrite` stores the product instead of adding it to C, plus bias[0:8] in every row
 * when `bias` (a byte address) is not 0.
 */
@inline export function microkernel(kc: i32, a: usize, b: usize, c: usize, ldc: usize, overwrite: bool, bias: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = f32x4.add(c00, f32x4.mul(av, b0));
    c01 = f32x4.add(c01, f32x4.mul(av, b1));
    av = v128.load32_splat(a, 4);
    c10 = f32x4.add(c10, f32x4.mul(av, b0));
    c11 = f32x4.add(c11, f32x4.mul(av, b1));
    av = v128.load32_splat(a, 8);
    c20 = f32x4.add(c20, f32x4.mul(av, b0));
    c21 = f32x4.add(c21, f32x4.mul(av, b1));
    av = v128.load32_splat(a, 12);
    c30 = f32x4.add(c30, f32x4.mul(av, b0));
    c31 = f32x4.add(c31, f32x4.mul(av, b1));
    a += 16;
    b += 32;
  }
  if (!overwrite) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc));
    c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc));
    c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ldc));
    c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
  } else if (bias != 0) {
    const bias0 = v128.load(bias);
    const bias1 = v128.load(bias, 16);
    c00 = f32x4.add(c00, bias0);
    c01 = f32x4.add(c01, bias1);
    c10 = f32x4.add(c10, bias0);
    c11 = f32x4.add(c11, bias1);
    c20 = f32x4.add(c20, bias0);
    c21 = f32x4.add(c21, bias1);
    c30 = f32x4.add(c30, bias0);
    c31 = f32x4.add(c31, bias1);
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20);
  v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30);
  v128.store(c + 3 * ldc, c31, 16);
}
