// The rows of `pnpm bench gpu`: what each one runs on our WebGPU backend (through the public ops,
// so new kernels are picked up as they land) and the spec of its PyTorch twin (gpu_torch.py).
// Sizes come from a Scale: 'full' is the (matmul 1024-4096³, the kernels at the shapes of
// the 156M-parameter G.pt step, that step and the Cartpole one); 'small' shrinks every size so a
// software adapter (lavapipe on two cores) gets through in minutes. Under the 'gpu' kernels the
// largest matmul runs twice more, with the tiled kernel's 64 x 64 and 128 x 128 tiles forced.
//
// Traffic (the GB/s columns) is the least a kernel must move, in fp32: layerNorm forward reads x
// and writes y (2 N D, plus weight and bias); its backward reads x and dy and writes dx (3 N D,
// plus weight, dweight and dbias); softmax reads and writes its tensor once; sum reads [N, D] and
// writes [N]; AdamW reads parameter, gradient and both moments and writes all but the gradient
// (7 x 4 bytes per parameter); attention forward reads q, k, v and writes the output (4 tensors),
// forward+backward adds reading q, k, v, out and dout and writing dq, dk, dv (12 in all).

import { AdamW } from '@gpt/nn';
import { getBackend, layerNorm, matmul, ones, randn, scaledDotProductAttention, softmax, sum, tidy, zeros, type Tensor } from '@gpt/tensor';
import { WebGPUBackend } from '@gpt/tensor/webgpu-node';
import { GPT_PRESETS } from '@gpt/transformer';
import { GPT_CARTPOLE, benchConfig, buildModel, forwardStep, trainStep, type TrainStepConfig } from '../train-step/model/gpt-train-step.js';

export const SECTIONS = ['matmul', 'kernels', 'steps'] as const;
export type Section = (typeof SECTIONS)[number];

export const SCALES = ['full', 'small'] as const;
export type ScaleName = (typeof SCALES)[number];

/** One row's work, ready to time. */
export interface Prepared {
  /** Records (or for a step, runs and waits for) one call; its outputs are freed. */
  call(): unknown;
  /** Frees the inputs. */
  dispose(): void;
  /** What depends on what was built (AdamW: the model's tensors): the twin's spec, the shape in words, the traffic. */
  torch?: object;
  shape?: string;
  bytes?: number;
}

export interface Workload {
  section: Section;
  name: string;
  /** The shapes, in words. */
  shape: string;
  /** Floating-point operations of one call, for GFLOP/s. */
  flops?: number;
  /** Bytes one call must move at least, for GB/s. */
  bytes?: number;
  /** The spec of the PyTorch twin (see gpu_torch.py), unless prepare() gives it. */
  torch?: object;
  prepare(): Prepared;
  /** Steps: the forward pass alone, for fwd_ms. */
  prepareForward?(): Prepared;
}

interface Scale {
  matmulSizes: number[];
  /** The small G.pt step (the Cartpole benchmark's config at full scale). */
  cartpole: TrainStepConfig;
  /** The large G.pt step, whose shapes the kernel rows take. */
  large: TrainStepConfig;
}

const CARTPOLE_TENSORS = GPT_CARTPOLE.parameterSizes as number[];
const PRESET = GPT_PRESETS.cartpoleSmall;

const SCALE: Record<ScaleName, Scale> = {
  full: {
    matmulSizes: [1024, 2048, 4096],
    cartpole: GPT_CARTPOLE,
    // Cartpole's 18 tokens at d 1024, 12 layers, 16 heads, batch 256: the 156M-parameter step.
    large: benchConfig({ ...PRESET, nEmbd: 1024, nLayer: 12, nHead: 16 }, CARTPOLE_TENSORS, 256),
  },
  small: {
    matmulSizes: [256, 512, 1024],
    cartpole: benchConfig(PRESET, CARTPOLE_TENSORS, 16),
    large: benchConfig({ ...PRESET, nEmbd: 256, nLayer: 3, nHead: 4 }, CARTPOLE_TENSORS, 32),
  },
};

const F32 = 4;
const dims = (shape: readonly number[]) => `[${shape.join(',')}]`;

function matmulWorkload(section: Section, name: string, a: number[], b: number[], transA = false, transB = false): Workload {
  const [m, k] = transA ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const n = transB ? b[0]! : b[1]!;
  return {
    section,
    name,
    shape: `${dims(a)}${transA ? 'ᵀ' : ''}·${dims(b)}${transB ? 'ᵀ' : ''}`,
    flops: 2 * m * n * k,
    torch: { op: 'matmul', a, b, transA, transB },
    prepare() {
      const x = randn(a, { seed: 1 });
      const y = randn(b, { seed: 2 });
      return {
        call: () => tidy(() => void matmul(x, y, { transA, transB })), // [m, n]
        dispose: () => [x, y].forEach((t) => t.dispose()),
      };
    },
  };
}

/**
 * The largest matmul again with the 'gpu' kernels' tile forced to 64 x 64 and to 128 x 128
 * (WebGPUBackend.matmulTile; the row above runs 'auto'), so one run shows both geometries;
 * the previous setting comes back when the row is done. No PyTorch twin: the row above has it.
 * None on other backends or with the 'software' kernels, which have no tiles.
 */
function matmulTileWorkloads(n: number): Workload[] {
  const backend = getBackend();
  if (!(backend instanceof WebGPUBackend) || backend.kernels !== 'gpu') return [];
  return ([64, 128] as const).map((tile) => {
    const plain = matmulWorkload('matmul', `matmul ${n}³, ${tile}x${tile} tiles`, [n, n], [n, n]);
    return {
      ...plain,
      torch: undefined,
      prepare() {
        const previous = backend.matmulTile;
        backend.matmulTile = tile;
        const prepared = plain.prepare();
        return {
          ...prepared,
          dispose() {
            backend.matmulTile = previous;
            prepared.dispose();
          },
        };
      },
    };
  });
}

/** Clears the gradients backward() accumulated into leaves, so each timed call starts alike. */
function clearGrads(leaves: readonly Tensor[]): void {
  for (const t of leaves) {
    t.grad?.dispose();
    t.grad = null;
  }
}

/** A leaf that takes gradients. */
function leaf(t: Tensor): Tensor {
  t.requiresGrad = true;
  return t;
}

function layerNormWorkloads(n: number, d: number): Workload[] {
  const shape = dims([n, d]);
  const forward: Workload = {
    section: 'kernels',
    name: 'layerNorm fwd',
    shape,
    bytes: (2 * n * d + 2 * d) * F32,
    torch: { op: 'layerNorm', shape: [n, d], pass: 'fwd' },
    prepare() {
      const [x, w, b] = [randn([n, d], { seed: 3 }), ones([d]), zeros([d])];
      return { call: () => tidy(() => void layerNorm(x, w, b)), dispose: () => [x, w, b].forEach((t) => t.dispose()) };
    },
  };
  const backward: Workload = {
    section: 'kernels',
    name: 'layerNorm bwd',
    shape,
    bytes: (3 * n * d + 3 * d) * F32,
    torch: { op: 'layerNorm', shape: [n, d], pass: 'bwd' },
    prepare() {
      // Backward alone: one forward, then backward through the retained graph each call.
      const leaves = [leaf(randn([n, d], { seed: 3 })), leaf(ones([d])), leaf(zeros([d]))] as const;
      const y = layerNorm(...leaves); // [N, D]
      const dy = randn([n, d], { seed: 4 });
      return {
        call() {
          tidy(() => y.backward(dy, { retainGraph: true }));
          clearGrads(leaves);
        },
        dispose: () => [y, dy, ...leaves].forEach((t) => t.dispose()),
      };
    },
  };
  return [forward, backward];
}

function rowKernelWorkload(name: string, shape: number[], bytes: number, run: (x: Tensor) => Tensor, torchOp: string): Workload {
  return {
    section: 'kernels',
    name,
    shape: dims(shape),
    bytes,
    torch: { op: torchOp, shape },
    prepare() {
      const x = randn(shape, { seed: 5 });
      return { call: () => tidy(() => void run(x)), dispose: () => x.dispose() };
    },
  };
}

function attentionWorkloads(shape: number[]): Workload[] {
  const tensorBytes = shape.reduce((a, b) => a * b, 1) * F32;
  const [b, h, t, e] = shape as [number, number, number, number];
  const flops = 4 * b * h * t * t * e; // q kᵀ and weights v
  return (['fwd', 'fwdbwd'] as const).map((pass) => ({
    section: 'kernels' as const,
    name: pass === 'fwd' ? 'attention fwd' : 'attention fwd+bwd',
    shape: dims(shape),
    flops: pass === 'fwd' ? flops : 3 * flops,
    bytes: (pass === 'fwd' ? 4 : 12) * tensorBytes,
    torch: { op: 'attention', shape, pass },
    prepare() {
      const qkv = [6, 7, 8].map((seed) => randn(shape, { seed }));
      const dout = randn(shape, { seed: 9 });
      if (pass === 'fwd') {
        return {
          call: () => tidy(() => void scaledDotProductAttention(qkv[0]!, qkv[1]!, qkv[2]!)), // [B, H, T, E]
          dispose: () => [...qkv, dout].forEach((x) => x.dispose()),
        };
      }
      qkv.forEach(leaf);
      return {
        call() {
          tidy(() => scaledDotProductAttention(qkv[0]!, qkv[1]!, qkv[2]!).backward(dout));
          clearGrads(qkv);
        },
        dispose: () => [...qkv, dout].forEach((x) => x.dispose()),
      };
    },
  }));
}

function adamWorkload(config: TrainStepConfig): Workload {
  return {
    section: 'kernels',
    name: 'AdamW step',
    shape: `the d ${config.nEmbd} G.pt's tensors`,
    prepare() {
      const model = buildModel(config);
      const groups = model.weightDecayGroups(0.1);
      const params = model.parameters();
      params.forEach((p, i) => (p.grad = randn(p.shape, { seed: 100 + i })));
      const optimizer = new AdamW(groups, { lr: 1e-4 });
      const decayed = new Set(groups[0].params); // Linear weights (the official decay group)
      const count = model.parameterCount;
      return {
        shape: `${(count / 1e6).toFixed(1)}M params, ${params.length} tensors`,
        bytes: 7 * F32 * count,
        call: () => optimizer.step(),
        dispose() {
          optimizer.dispose();
          model.dispose();
        },
        torch: { op: 'adamw', shapes: params.map((p) => p.shape), decay: params.map((p) => decayed.has(p)) },
      };
    },
  };
}

function stepWorkload(name: string, config: TrainStepConfig): Workload {
  return {
    section: 'steps',
    name,
    shape: `d ${config.nEmbd}, ${config.nLayer} layers, ${config.nHead} heads, ${config.inputSplits.length} tokens, batch ${config.batch}`,
    torch: { op: 'step', config },
    prepare: () => {
      const step = trainStep(config);
      return { call: step, dispose: () => step.dispose() };
    },
    prepareForward: () => {
      const forward = forwardStep(config);
      return { call: forward, dispose: () => forward.dispose() };
    },
  };
}

/** The rows of a section at a scale, in the order they run. */
export function workloads(section: Section, scaleName: ScaleName): Workload[] {
  const scale = SCALE[scaleName];
  if (section === 'matmul') {
    const sizes = scale.matmulSizes.map((n) => matmulWorkload('matmul', `matmul ${n}³`, [n, n], [n, n]));
    return [...sizes, ...matmulTileWorkloads(Math.max(...scale.matmulSizes))];
  }
  if (section === 'steps') {
    const { cartpole, large } = scale;
    return [stepWorkload('G.pt step, Cartpole config', cartpole), stepWorkload('G.pt step, large config', large)];
  }
  // The kernels at the large step's shapes: N tokens of width D, MLP width 4D, H heads of E.
  const { batch, nEmbd: d, nHead: h } = scale.large;
  const t = scale.large.inputSplits.length;
  const n = batch * t;
  return [
    matmulWorkload('kernels', 'matmul x·W (MLP up)', [n, d], [d, 4 * d]),
    matmulWorkload('kernels', 'matmul x·W (MLP down)', [n, 4 * d], [4 * d, d]),
    matmulWorkload('kernels', 'matmul transB: Linear x·Wᵀ', [n, d], [4 * d, d], false, true),
    matmulWorkload('kernels', 'matmul transB: dX = dY·Wᵀ', [n, 4 * d], [d, 4 * d], false, true),
    matmulWorkload('kernels', 'matmul transA: dW = dYᵀ·X', [n, 4 * d], [n, d], true, false),
    ...layerNormWorkloads(n, d),
    rowKernelWorkload('softmax', [batch, h, t, t], 2 * batch * h * t * t * F32, (x) => softmax(x, -1), 'softmax'),
    rowKernelWorkload('sum (last axis)', [n, d], (n * d + n) * F32, (x) => sum(x, -1), 'sum'),
    adamWorkload(scale.large),
    ...attentionWorkloads([batch, h, t, d / h]),
  ];
}
