// Loads the golden fixtures written by scripts/fixtures/diffusion_fixtures.py and maps the
// Python coefficient names to this package's camelCase names.

import { readFileSync } from 'node:fs';

export type Values = Record<string, number[]>;

export interface ScheduleCase {
  schedule: 'linear' | 'cosine';
  T: number;
  indices: number[];
  values: Values;
}

export interface RespacedCase extends ScheduleCase {
  sections: string;
  timestep_map: number[];
}

export interface CoefficientFixtures {
  schedules: Record<string, ScheduleCase>;
  respaced: Record<string, RespacedCase>;
  spacing: { T: number; sections: string | number[]; timesteps: number[] }[];
}

export interface StepFixtures {
  T: number;
  t: number[];
  x_start: number[][];
  noise: number[][];
  model_output: number[][];
  step_noise: number[][];
  q_sample: number[][];
  q_mean: number[][];
  q_variance: number[][];
  posterior_mean: number[][];
  start_x: Record<'mean' | 'ddpm_fixed_large' | 'ddpm_fixed_small' | 'ddim_eta0' | 'ddim_eta05' | 'clipped_mean', number[][]>;
  epsilon: Record<'pred_xstart' | 'mean', number[][]>;
  previous_x: Record<'pred_xstart', number[][]>;
}

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export const coefficientFixtures = load<CoefficientFixtures>('coefficients.json');
export const stepFixtures = load<StepFixtures>('steps.json');

/** snake_case fixture key -> camelCase field of GaussianDiffusion. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
