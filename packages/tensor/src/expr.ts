// A tiny expression language for elementwise ops. Each elementwise op is written
// once as an expression over its inputs; the CPU backend compiles it into nested
// closures (no eval) and the WebGPU backend prints it as WGSL. So the two backends
// cannot drift apart: there is only one formula.

export type Fn = keyof typeof FUNCTIONS;

export type Expr =
  | { readonly kind: 'input'; readonly index: number }
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'call'; readonly fn: Fn; readonly args: readonly Expr[] };

type Operand = Expr | number;

// erf via the Chebyshev fit of erfc from Numerical Recipes (fractional error < 1.2e-7,
// below float32 resolution). The same coefficients are printed into WGSL below.
const ERFC_COEFFS = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
  -0.82215223, 0.17087277,
];

function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  let poly = ERFC_COEFFS[9]!;
  for (let i = 8; i >= 0; i--) poly = ERFC_COEFFS[i]! + t * poly;
  const erfc = t * Math.exp(-z * z + poly);
  return x >= 0 ? 1 - erfc : erfc - 1;
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

// GELU and its derivative are functions of the language rather than expressions built from
// erf and exp: the WASM kernels evaluate each as one fused register operation, and their erf
// is a rational function with no exp, u P(u²) / Q(u²) (fitted here to the float64 erf on
// [0, 3.92] for the least maximum relative error; 5e-8 in float64, 3.9e-7 absolute in
// float32, like the erfc fit above), ±1 from |u| >= 3.92 on, where erf rounds to ±1 in float32.
// GELU and its gradient were ~7% of the G.pt train step with the erfc fit, whose exp cost as
// much as the rest. Coefficients are float32 values, highest degree first.
const GELU_ERF_P = [
  1.9925376903984215e-8, -1.9578553747123806e-6, 0.00014184252358973026, 0.003701202105730772, 0.050572048872709274, 0.1999143362045288,
  1.1283791065216064,
];
const GELU_ERF_Q = [0.0009559456375427544, 0.014352374710142612, 0.11499426513910294, 0.5105011463165283, 1];
const GELU_ERF_EDGE = 3.92;

function geluErf(u: number): number {
  if (!(Math.abs(u) < GELU_ERF_EDGE)) return u < 0 ? -1 : 1;
  const s = u * u;
  let p = GELU_ERF_P[0]!;
  for (let i = 1; i < GELU_ERF_P.length; i++) p = p * s + GELU_ERF_P[i]!;
  let q = GELU_ERF_Q[0]!;
  for (let i = 1; i < GELU_ERF_Q.length; i++) q = q * s + GELU_ERF_Q[i]!;
  return (u * p) / q;
}

/** Exact GELU: x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). */
function gelu(x: number): number {
  return 0.5 * x * (1 + geluErf(x * Math.SQRT1_2));
}

/** GELU's derivative: Phi(x) + x phi(x). */
function geluGrad(x: number): number {
  return 0.5 * (1 + geluErf(x * Math.SQRT1_2)) + x * (INV_SQRT_2PI * Math.exp(-0.5 * (x * x)));
}

/**
 * Every function the language knows: its JS meaning and its WGSL spelling. WGSL
 * arguments arrive already printed; `T` is the WGSL scalar type being computed.
 */
const FUNCTIONS = {
  add: { js: (a: number, b: number) => a + b, wgsl: (a: string, b: string) => `(${a} + ${b})` },
  sub: { js: (a: number, b: number) => a - b, wgsl: (a: string, b: string) => `(${a} - ${b})` },
  mul: { js: (a: number, b: number) => a * b, wgsl: (a: string, b: string) => `(${a} * ${b})` },
  div: { js: (a: number, b: number) => a / b, wgsl: (a: string, b: string) => `(${a} / ${b})` },
  neg: { js: (a: number) => -a, wgsl: (a: string) => `(-${a})` },
  pow: { js: (a: number, b: number) => Math.pow(a, b), wgsl: (a: string, b: string) => `pow(${a}, ${b})` },
  exp: { js: Math.exp, wgsl: (a: string) => `exp(${a})` },
  log: { js: Math.log, wgsl: (a: string) => `log(${a})` },
  sqrt: { js: Math.sqrt, wgsl: (a: string) => `sqrt(${a})` },
  abs: { js: Math.abs, wgsl: (a: string) => `abs(${a})` },
  sin: { js: Math.sin, wgsl: (a: string) => `sin(${a})` },
  cos: { js: Math.cos, wgsl: (a: string) => `cos(${a})` },
  tanh: { js: Math.tanh, wgsl: (a: string) => `tanh(${a})` },
  erf: { js: erf, wgsl: (a: string) => `gpt_erf(${a})` },
  gelu: { js: gelu, wgsl: (a: string) => `gpt_gelu(${a})` },
  geluGrad: { js: geluGrad, wgsl: (a: string) => `gpt_gelu_grad(${a})` },
  sign: { js: Math.sign, wgsl: (a: string) => `sign(${a})` },
  // NaN propagates (like torch.maximum). WGSL's max/min leave NaN implementation-defined, so f32 spells the JS rule out.
  max: {
    js: (a: number, b: number) => (a > b || Number.isNaN(a) ? a : b),
    wgsl: (a: string, b: string, T: string) => (T === 'f32' ? `select(${b}, ${a}, ${a} > ${b} || gpt_is_nan(${a}))` : `max(${a}, ${b})`),
  },
  min: {
    js: (a: number, b: number) => (a < b || Number.isNaN(a) ? a : b),
    wgsl: (a: string, b: string, T: string) => (T === 'f32' ? `select(${b}, ${a}, ${a} < ${b} || gpt_is_nan(${a}))` : `min(${a}, ${b})`),
  },
  // Comparisons produce 1 or 0 in the computed type.
  lt: { js: (a: number, b: number) => (a < b ? 1 : 0), wgsl: (a: string, b: string, T: string) => `select(${T}(0), ${T}(1), ${a} < ${b})` },
  le: { js: (a: number, b: number) => (a <= b ? 1 : 0), wgsl: (a: string, b: string, T: string) => `select(${T}(0), ${T}(1), ${a} <= ${b})` },
  gt: { js: (a: number, b: number) => (a > b ? 1 : 0), wgsl: (a: string, b: string, T: string) => `select(${T}(0), ${T}(1), ${a} > ${b})` },
  ge: { js: (a: number, b: number) => (a >= b ? 1 : 0), wgsl: (a: string, b: string, T: string) => `select(${T}(0), ${T}(1), ${a} >= ${b})` },
  eq: { js: (a: number, b: number) => (a === b ? 1 : 0), wgsl: (a: string, b: string, T: string) => `select(${T}(0), ${T}(1), ${a} == ${b})` },
  ne: { js: (a: number, b: number) => (a !== b ? 1 : 0), wgsl: (a: string, b: string, T: string) => `select(${T}(0), ${T}(1), ${a} != ${b})` },
  /** select(cond, a, b): a where cond is non-zero, else b. */
  select: {
    js: (c: number, a: number, b: number) => (c !== 0 ? a : b),
    wgsl: (c: string, a: string, b: string, T: string) => `select(${b}, ${a}, ${c} != ${T}(0))`,
  },
} satisfies Record<string, { js: (...args: number[]) => number; wgsl: (...args: string[]) => string }>;

/** WGSL source of the helper functions an expression may call. */
export const WGSL_EXPR_PRELUDE = `
// By bits: compilers may fold x != x to false, assuming NaN never occurs.
fn gpt_is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn gpt_erf(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  var p = ${ERFC_COEFFS[9]};
${ERFC_COEFFS.slice(0, 9)
  .reverse()
  .map((c) => `  p = ${c} + t * p;`)
  .join('\n')}
  let erfc = t * exp(-z * z + p);
  return select(erfc - 1.0, 1.0 - erfc, x >= 0.0);
}

fn gpt_gelu_erf(u: f32) -> f32 {
  if (!(abs(u) < ${GELU_ERF_EDGE})) { return select(1.0, -1.0, u < 0.0); }
  let s = u * u;
  var p = ${GELU_ERF_P[0]};
${GELU_ERF_P.slice(1).map((c) => `  p = p * s + ${c};`).join('\n')}
  var q = ${GELU_ERF_Q[0]};
${GELU_ERF_Q.slice(1).map((c) => `  q = q * s + ${c};`).join('\n')}
  return (u * p) / q;
}

fn gpt_gelu(x: f32) -> f32 {
  return (0.5 * x) * (1.0 + gpt_gelu_erf(x * ${Math.SQRT1_2}));
}

fn gpt_gelu_grad(x: f32) -> f32 {
  return 0.5 * (1.0 + gpt_gelu_erf(x * ${Math.SQRT1_2})) + x * (${INV_SQRT_2PI} * exp(-0.5 * (x * x)));
}
`;

// ---- building expressions -------------------------------------------------

export function input(index: number): Expr {
  return { kind: 'input', index };
}

function lift(x: Operand): Expr {
  return typeof x === 'number' ? { kind: 'const', value: x } : x;
}

export function call(fn: Fn, ...args: Operand[]): Expr {
  return { kind: 'call', fn, args: args.map(lift) };
}

// ---- compiling to JS ------------------------------------------------------

/** Most inputs an elementwise expression may read (the fused optimizer step reads six). */
export const MAX_EXPR_INPUTS = 6;

/** A compiled elementwise function of up to six inputs; callers pass as many as the expression reads. */
export type ScalarFn = (a: number, b: number, c: number, d?: number, e?: number, f?: number) => number;

type AnyFn = (...xs: number[]) => number;

/** Turns an expression into nested closures. Called once per op, not per element. */
export function compileJs(expr: Expr): ScalarFn {
  return compile(expr) as ScalarFn;
}

function compile(expr: Expr): AnyFn {
  switch (expr.kind) {
    case 'input': {
      const index = expr.index;
      if (!Number.isInteger(index) || index < 0 || index >= MAX_EXPR_INPUTS) {
        throw new Error(`compileJs: input index ${index} is outside 0..${MAX_EXPR_INPUTS - 1}`);
      }
      if (index === 0) return (a) => a;
      if (index === 1) return (_a, b) => b;
      if (index === 2) return (_a, _b, c) => c;
      if (index === 3) return (_a, _b, _c, d) => d!;
      if (index === 4) return (_a, _b, _c, _d, e) => e!;
      return (_a, _b, _c, _d, _e, f) => f!;
    }
    case 'const': {
      const v = expr.value;
      return () => v;
    }
    case 'call': {
      const f = FUNCTIONS[expr.fn].js as AnyFn;
      const args = expr.args.map(compile);
      const reads = maxInput(expr);
      // Fast paths for the common shapes f(x0), f(x0, x1), and closures of three inputs;
      // the fused ops' wider expressions pass all six through.
      if (args.length === 1) {
        const [g] = args as [AnyFn];
        const a0 = expr.args[0]!;
        if (a0.kind === 'input' && a0.index === 0) return (a) => f(a);
        if (reads < 3) return (a, b, c) => f(g(a!, b!, c!));
        return (a, b, c, d, e, h) => f(g(a!, b!, c!, d!, e!, h!));
      }
      if (args.length === 2) {
        const [g, h] = args as [AnyFn, AnyFn];
        const [a0, a1] = expr.args as [Expr, Expr];
        if (a0.kind === 'input' && a0.index === 0 && a1.kind === 'input' && a1.index === 1) return (a, b) => f(a!, b!);
        if (reads < 3) return (a, b, c) => f(g(a!, b!, c!), h(a!, b!, c!));
        return (a, b, c, d, e, k) => f(g(a!, b!, c!, d!, e!, k!), h(a!, b!, c!, d!, e!, k!));
      }
      const [g, h, k] = args as [AnyFn, AnyFn, AnyFn];
      if (reads < 3) return (a, b, c) => f(g(a!, b!, c!), h(a!, b!, c!), k(a!, b!, c!));
      return (a, b, c, d, e, l) => f(g(a!, b!, c!, d!, e!, l!), h(a!, b!, c!, d!, e!, l!), k(a!, b!, c!, d!, e!, l!));
    }
  }
}

/** The largest input index an expression reads (-1 for none). */
function maxInput(expr: Expr): number {
  if (expr.kind === 'input') return expr.index;
  if (expr.kind === 'const') return -1;
  return Math.max(-1, ...expr.args.map(maxInput));
}

// ---- printing WGSL --------------------------------------------------------

/** Prints an expression as WGSL. `inputs[i]` is the WGSL text of input i; `T` the scalar type. */
export function emitWgsl(expr: Expr, inputs: readonly string[], T: string): string {
  switch (expr.kind) {
    case 'input': {
      const name = inputs[expr.index];
      if (name === undefined) throw new Error(`emitWgsl: expression reads input ${expr.index} but only ${inputs.length} given`);
      return name;
    }
    case 'const': {
      const v = expr.value;
      if (Number.isInteger(v) && T !== 'f32') return `${T}(${v})`;
      return `${T}(${Number.isInteger(v) ? v.toFixed(1) : v.toPrecision(9)})`;
    }
    case 'call': {
      const args = expr.args.map((a) => emitWgsl(a, inputs, T));
      return (FUNCTIONS[expr.fn].wgsl as (...xs: string[]) => string)(...args, T);
    }
  }
}
