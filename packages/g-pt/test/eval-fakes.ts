// Stand-in G.pt models for the evaluation tests, for the quadratic test task: they predict a
// known x_0 from the conditioning, so every number an evaluation reports can be computed by
// hand. With x_0 prediction independent of x_t, DDIM (eta 0) returns exactly that x_0.
import type { Gpt } from '@gpt/transformer';
import { tensor, type Tensor } from '@gpt/tensor';
import type { TrainedGpt } from '../src/trained-gpt.js';
import { QUADRATIC_TARGET } from './sample-quadratic-task.js';

export interface FakeCall {
  readonly lossTarget: number[];
  readonly lossPrev: number[];
}

/**
 * A model whose x_0 is target + (p - target) * scale(lossTarget, lossPrev) for the starting
 * raw vector p = xPrev / coefficient, returned in normalized space. Its loss is then
 * lossPrev * scale²: scale = sqrt(target / prev) is a perfect predictor.
 */
export function fakeGpt(taskName: string, scale: (target: number, prev: number) => number, coefficient = 2): { trained: TrainedGpt; calls: FakeCall[] } {
  const calls: FakeCall[] = [];
  const D = QUADRATIC_TARGET.length;
  const model = {
    parameterDim: D,
    config: { predictXstart: true },
    stateDevices: () => [['w', 'cpu']],
    forward(_x: Tensor, _t: Tensor, lossTarget: Tensor, lossPrev: Tensor, xPrev: Tensor): Tensor {
      const targets = [...(lossTarget.dataSync() as Float32Array)];
      const prevs = [...(lossPrev.dataSync() as Float32Array)];
      calls.push({ lossTarget: targets, lossPrev: prevs });
      const xp = xPrev.dataSync() as Float32Array;
      const out = new Float32Array(xp.length);
      for (let n = 0; n < targets.length; n++) {
        const s = scale(targets[n]!, prevs[n]!);
        for (let i = 0; i < D; i++) out[n * D + i] = coefficient * (QUADRATIC_TARGET[i]! + (xp[n * D + i]! / coefficient - QUADRATIC_TARGET[i]!) * s);
      }
      return tensor(out, { shape: [targets.length, D] });
    },
  } as unknown as Gpt;
  const trained: TrainedGpt = {
    task: taskName,
    config: model.config,
    model,
    diffusionSteps: 100,
    noiseSchedule: 'linear',
    normalizationCoefficient: coefficient,
    step: 0,
  };
  return { trained, calls };
}
