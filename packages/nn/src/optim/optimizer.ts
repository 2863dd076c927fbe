// The optimizer base: parameter groups with their own hyper-parameters, per-parameter
// state, and a state dict in PyTorch's layout (state keyed by the parameter's index
// over all groups, and the groups' hyper-parameters), so training can be checkpointed
// and resumed exactly. Parameters are updated with Tensor.assign: the handles the
// model holds stay the same, only their data is replaced.

import { keep, noGrad, Tensor, tidy } from '@gpt/tensor';

/** Hyper-parameters every optimizer has. */
export interface BaseOptions {
  lr: number;
}

/** A group as given to the constructor: its parameters plus overrides of the defaults. */
export type ParamGroupInput<O> = { params: Iterable<Tensor> } & Partial<O>;

/** A group as the optimizer holds it; change `lr` (or any option) between steps. */
export type ParamGroup<O> = O & {
  params: Tensor[];
  /** The lr the group started with: schedules scale this. */
  initialLr: number;
};

/** Per-parameter state: tensors (moments, buffers) and numbers (step counts). */
export type ParamState = Record<string, Tensor | number>;

export interface OptimizerStateDict<O = Record<string, unknown>> {
  /** Keyed by the parameter's position over all groups, in group order. Parameters without state are absent. */
  state: Record<number, ParamState>;
  /** Hyper-parameters per group, with `params` as those positions. */
  paramGroups: (O & { params: number[]; initialLr: number })[];
}

export abstract class Optimizer<O extends BaseOptions> {
  readonly paramGroups: ParamGroup<O>[] = [];
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(
    params: Iterable<Tensor> | readonly ParamGroupInput<O>[],
    readonly defaults: O,
  ) {
    const list = [...(params as Iterable<Tensor | ParamGroupInput<O>>)];
    const groups: ParamGroupInput<O>[] =
      list.length > 0 && !(list[0] instanceof Tensor) ? (list as ParamGroupInput<O>[]) : [{ params: list as Tensor[] } as unknown as ParamGroupInput<O>];
    const seen = new Set<Tensor>();
    groups.forEach((input, g) => {
      if (input instanceof Tensor || typeof input !== 'object' || input === null || !('params' in input)) {
        throw new Error(`${this.constructor.name}: param group ${g} must be an object with a "params" list`);
      }
      const params = [...input.params];
      params.forEach((p, i) => {
        if (!(p instanceof Tensor)) throw new Error(`${this.constructor.name}: param group ${g}, entry ${i} is not a Tensor`);
        if (p.node) throw new Error(`${this.constructor.name}: param group ${g}, entry ${i} is not a leaf tensor and cannot be optimized`);
        if (p.dtype !== 'float32') throw new Error(`${this.constructor.name}: param group ${g}, entry ${i} has dtype ${p.dtype}, expected float32`);
        if (seen.has(p)) throw new Error(`${this.constructor.name}: a parameter appears more than once (group ${g}, entry ${i})`);
        seen.add(p);
      });
      const { params: _ignored, ...overrides } = input;
      const options = { ...defaults, ...overrides } as O;
      this.validate(options, `param group ${g}`);
      this.paramGroups.push({ ...options, params, initialLr: options.lr });
    });
    if (seen.size === 0) throw new Error(`${this.constructor.name}: got an empty parameter list`);
  }

  /** Checks a group's hyper-parameters; throws naming `where` and the bad option. */
  protected abstract validate(options: O, where: string): void;

  /**
   * Returns the new value of `param` given its gradient, updating `state` (replace
   * state tensors with setState so the old ones are freed). Runs inside tidy + noGrad.
   */
  protected abstract update(param: Tensor, grad: Tensor, group: ParamGroup<O>, state: ParamState): Tensor;

  /** One optimization step over every parameter that has a gradient. */
  step(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (!p.grad) continue;
        const grad = p.grad;
        tidy(() =>
          noGrad(() => {
            let state = this.state.get(p);
            if (!state) {
              state = {};
              this.state.set(p, state);
            }
            p.assign(this.update(p, grad, group, state));
          }),
        );
      }
    }
  }

  /** Disposes and clears the gradients of every parameter (set_to_none, PyTorch's default). */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** Stores a state tensor, keeping it alive across tidy and freeing the one it replaces. */
  protected setState(state: ParamState, key: string, value: Tensor): void {
    const previous = state[key];
    state[key] = keep(value);
    if (previous instanceof Tensor && previous !== value) previous.dispose();
  }

  /**
   * The optimizer state: new tensor handles sharing the current buffers (a snapshot;
   * later steps do not change it) and plain numbers. Dispose the tensors when done.
   */
  stateDict(): OptimizerStateDict<O> {
    const state: Record<number, ParamState> = {};
    let index = 0;
    const paramGroups = this.paramGroups.map((group) => {
      const { params, ...options } = group;
      const indices = params.map((p) => {
        const s = this.state.get(p);
        if (s) {
          state[index] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v instanceof Tensor ? v.detach() : v]));
        }
        return index++;
      });
      return { ...(options as unknown as O), initialLr: group.initialLr, params: indices };
    });
    return { state, paramGroups };
  }

  /**
   * Restores state and group hyper-parameters saved by stateDict() from an optimizer
   * over the same parameters (same groups and shapes). Validates everything first.
   */
  loadStateDict(dict: OptimizerStateDict<O>): void {
    const name = this.constructor.name;
    if (!dict || !Array.isArray(dict.paramGroups) || typeof dict.state !== 'object' || dict.state === null) {
      throw new Error(`${name}.loadStateDict: expected { state, paramGroups }`);
    }
    if (dict.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`${name}.loadStateDict: the state dict has ${dict.paramGroups.length} param groups, this optimizer ${this.paramGroups.length}`);
    }
    const byIndex = new Map<number, Tensor>();
    dict.paramGroups.forEach((saved, g) => {
      const group = this.paramGroups[g]!;
      if (!Array.isArray(saved.params) || saved.params.length !== group.params.length) {
        throw new Error(`${name}.loadStateDict: param group ${g} has ${saved.params?.length} parameters in the state dict, ${group.params.length} here`);
      }
      saved.params.forEach((index, i) => byIndex.set(index, group.params[i]!));
      const { params: _p, ...options } = saved;
      this.validate({ ...this.defaults, ...options } as O, `param group ${g} of the state dict`);
    });
    for (const [key, entry] of Object.entries(dict.state)) {
      const p = byIndex.get(Number(key));
      if (!p) throw new Error(`${name}.loadStateDict: state for parameter ${key}, which no param group lists`);
      for (const [field, value] of Object.entries(entry)) {
        if (value instanceof Tensor) {
          if (value.isDisposed) throw new Error(`${name}.loadStateDict: state "${key}.${field}" was disposed`);
          if (value.shape.length !== p.shape.length || value.shape.some((d, i) => d !== p.shape[i])) {
            throw new Error(
              `${name}.loadStateDict: state "${key}.${field}" has shape [${value.shape.join(', ')}], expected [${p.shape.join(', ')}] like its parameter`,
            );
          }
        } else if (typeof value !== 'number') {
          throw new Error(`${name}.loadStateDict: state "${key}.${field}" must be a Tensor or a number`);
        }
      }
    }
    // Everything checked: replace.
    dict.paramGroups.forEach((saved, g) => {
      const { params: _p, ...options } = saved;
      Object.assign(this.paramGroups[g]!, options);
    });
    this.disposeState();
    for (const [key, entry] of Object.entries(dict.state)) {
      const p = byIndex.get(Number(key))!;
      const s: ParamState = {};
      for (const [field, value] of Object.entries(entry)) {
        s[field] = value instanceof Tensor ? keep(value.device === p.device ? value.detach() : value.to(p.device)) : value;
      }
      this.state.set(p, s);
    }
  }

  /** Frees the optimizer's state tensors (the parameters stay). */
  dispose(): void {
    this.disposeState();
  }

  private disposeState(): void {
    for (const s of this.state.values()) {
      for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
    }
    this.state.clear();
  }
}

/** Throws unless `value` is a finite number >= min (names the option and the group). */
export function checkNumber(optimizer: string, where: string, option: string, value: unknown, min = 0, max = Infinity): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new Error(`${optimizer}: ${where}: ${option} must be a number ${range}, got ${String(value)}`);
  }
}
