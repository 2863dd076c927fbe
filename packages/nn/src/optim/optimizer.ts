// The optimizer base: parameter groups with their own hyper-parameters, per-parameter
// state, and a state dict in PyTorch's layout (state keyed by the parameter's index
// over all groups, and the groups' hyper-parameters), so training can be checkpointed
// and resumed exactly. Parameters are updated with Tensor.assign: the handles the
// model holds stay the same, only their data is replaced. State tensors follow their
// parameter's device (after Module.to), moved at the next step.

import { keep, markStep, noGrad, Tensor, tidy } from '@gpt/tensor';
import { isHostReadable, makeAll, toDeviceSync, uploadLike } from '../devices.js';
import { StepScalars } from './step-scalars.js';

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

/** State as loadStateDict takes it: a tensor may also be given as a Float32Array of its parameter's shape. */
export type ParamStateInput = Readonly<Record<string, Tensor | Float32Array | number>>;

export interface OptimizerStateDict<O = Record<string, unknown>> {
  /** Keyed by the parameter's position over all groups, in group order. Parameters without state are absent. */
  state: Record<number, ParamState>;
  /** Hyper-parameters per group, with `params` as those positions. */
  paramGroups: (O & { params: number[]; initialLr: number })[];
}

/** What loadStateDict takes: a state dict whose tensors may live on any device or be Float32Arrays. */
export interface OptimizerStateDictInput<O = Record<string, unknown>> {
  state: Readonly<Record<number, ParamStateInput>>;
  paramGroups: readonly (O & { params: number[]; initialLr: number })[];
}

/**
 * `S` names the numbers one update uses (see stepScalars); they reach update() as
 * 0-d tensors uploaded once per group and step.
 */
export abstract class Optimizer<O extends BaseOptions, S extends string = string> {
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
   * The numbers the next update of a parameter with this `state` uses, by name,
   * computed from the group's options and the state before the update. step()
   * uploads them as one small tensor per group (per distinct set of values, so
   * parameters with different step counts each get theirs) and passes them to
   * update() as 0-d tensors: hyper-parameters reach the kernels without an upload
   * per parameter.
   */
  protected abstract stepScalars(group: ParamGroup<O>, state: ParamState): Record<S, number>;

  /**
   * Returns the new value of `param` given its gradient, updating `state` (replace
   * state tensors with setState so the old ones are freed). `scalars` holds
   * stepScalars(group, state) as 0-d tensors on the parameter's device; pass them to
   * ops instead of numbers. Runs inside tidy + noGrad.
   */
  protected abstract update(param: Tensor, grad: Tensor, group: ParamGroup<O>, state: ParamState, scalars: Readonly<Record<S, Tensor>>): Tensor;

  /** One optimization step over every parameter that has a gradient. */
  step(): void {
    const name = this.constructor.name;
    const work = this.paramGroups.map((group) => group.params.filter((p) => p.grad !== null));
    // Everything that could refuse (state on a device the host cannot read) is settled
    // before the first parameter changes.
    for (const p of work.flat()) {
      if (p.grad!.device !== p.device) {
        throw new Error(`${name}.step: a parameter lives on "${p.device}" but its gradient on "${p.grad!.device}"; move the module (with its gradients) by module.to(device)`);
      }
      this.followParam(p, 'step');
    }
    this.paramGroups.forEach((group, g) => {
      const scalars = new StepScalars();
      try {
        for (const p of work[g]!) {
          const grad = p.grad!;
          let state = this.state.get(p);
          if (!state) {
            state = {};
            this.state.set(p, state);
          }
          const values = scalars.get(this.stepScalars(group, state), p.device);
          const current = state;
          tidy(() => noGrad(() => p.assign(this.update(p, grad, group, current, values))));
        }
      } finally {
        scalars.dispose();
      }
    });
    // A step is the unit the leak warning (setLeakWarning) compares live tensors over.
    markStep();
  }

  /**
   * Moves state tensors that are not on their parameter's device there (after
   * module.to): synchronous from a host-readable device, else an error naming
   * followParamsAsync.
   */
  private followParam(p: Tensor, method: string): void {
    const state = this.state.get(p);
    if (!state) return;
    for (const [field, value] of Object.entries(state)) {
      if (!(value instanceof Tensor) || value.device === p.device) continue;
      const moved = toDeviceSync(
        value,
        p.device,
        () =>
          `${this.constructor.name}.${method}: state "${field}" of a parameter lives on "${value.device}", which cannot be read synchronously, but the parameter on "${p.device}"; call await optimizer.followParamsAsync() first`,
      );
      this.setState(state, field, moved);
    }
  }

  /** Moves every state tensor to its parameter's device, from any device (what step() does synchronously from the CPU). */
  async followParamsAsync(): Promise<void> {
    for (const [p, state] of this.state) {
      for (const [field, value] of Object.entries(state)) {
        if (!(value instanceof Tensor) || value.device === p.device) continue;
        this.setState(state, field, await value.toAsync(p.device));
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
   * State tensors are copied to their parameter's device; a state tensor may also be a
   * Float32Array of its parameter's shape. Synchronous, so a tensor on a device the
   * host cannot read synchronously (WebGPU) is accepted only when its parameter lives
   * there too; otherwise use `await optimizer.loadStateDictAsync(dict)`.
   */
  loadStateDict(dict: OptimizerStateDictInput<O>): void {
    const checked = this.checkStateDict(dict, 'loadStateDict');
    for (const { p, key, field, value } of checked.entries) {
      if (value instanceof Tensor && value.device !== p.device && !isHostReadable(value)) {
        throw new Error(
          `${this.constructor.name}.loadStateDict: state "${key}.${field}" lives on "${value.device}", which cannot be read synchronously, and its parameter on "${p.device}"; use await optimizer.loadStateDictAsync(dict)`,
        );
      }
    }
    this.applyStateDict(dict, checked);
  }

  /** loadStateDict for state tensors on any device: reads them back to the host where needed. */
  async loadStateDictAsync(dict: OptimizerStateDictInput<O>): Promise<void> {
    const checked = this.checkStateDict(dict, 'loadStateDictAsync');
    // One device-to-host read per tensor that must change device; nothing changes until all succeed.
    const values = await Promise.all(
      checked.entries.map(({ p, value }) => (value instanceof Tensor && value.device !== p.device && !isHostReadable(value) ? value.data() : value)),
    );
    const entries = checked.entries.map((entry, i) => ({ ...entry, value: values[i] as Tensor | Float32Array | number }));
    this.applyStateDict(dict, { entries, statefulParams: checked.statefulParams });
  }

  /** Validates a state dict against this optimizer; returns every state entry with its parameter. */
  private checkStateDict(dict: OptimizerStateDictInput<O>, method: string): CheckedState {
    const name = `${this.constructor.name}.${method}`;
    if (!dict || !Array.isArray(dict.paramGroups) || typeof dict.state !== 'object' || dict.state === null) {
      throw new Error(`${name}: expected { state, paramGroups }`);
    }
    if (dict.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`${name}: the state dict has ${dict.paramGroups.length} param groups, this optimizer ${this.paramGroups.length}`);
    }
    const byIndex = new Map<number, Tensor>();
    dict.paramGroups.forEach((saved, g) => {
      const group = this.paramGroups[g]!;
      if (!Array.isArray(saved.params) || saved.params.length !== group.params.length) {
        throw new Error(`${name}: param group ${g} has ${saved.params?.length} parameters in the state dict, ${group.params.length} here`);
      }
      saved.params.forEach((index: number, i: number) => byIndex.set(index, group.params[i]!));
      const { params: _p, ...options } = saved;
      this.validate({ ...this.defaults, ...options } as O, `param group ${g} of the state dict`);
    });
    const entries: StateEntry[] = [];
    const statefulParams: Tensor[] = [];
    for (const [key, entry] of Object.entries(dict.state)) {
      const p = byIndex.get(Number(key));
      if (!p) throw new Error(`${name}: state for parameter ${key}, which no param group lists`);
      statefulParams.push(p);
      for (const [field, value] of Object.entries(entry)) {
        const where = `${name}: state "${key}.${field}"`;
        if (value instanceof Tensor) {
          if (value.isDisposed) throw new Error(`${where} was disposed`);
          if (value.shape.length !== p.shape.length || value.shape.some((d, i) => d !== p.shape[i])) {
            throw new Error(`${where} has shape [${value.shape.join(', ')}], expected [${p.shape.join(', ')}] like its parameter`);
          }
          if (value.dtype !== 'float32') throw new Error(`${where} has dtype ${value.dtype}, expected float32`);
        } else if (value instanceof Float32Array) {
          if (value.length !== p.size) {
            throw new Error(`${where} has ${value.length} values, expected ${p.size} like its parameter [${p.shape.join(', ')}]`);
          }
        } else if (typeof value !== 'number') {
          throw new Error(`${where} must be a Tensor, a Float32Array or a number`);
        }
        entries.push({ p, key, field, value });
      }
    }
    return { entries, statefulParams };
  }

  /** Replaces groups' options and all state; the new state tensors are made before anything changes. */
  private applyStateDict(dict: OptimizerStateDictInput<O>, { entries, statefulParams }: CheckedState): void {
    const tensorEntries = entries.filter((e) => typeof e.value !== 'number');
    const made = noGrad(() =>
      makeAll(tensorEntries, ({ p, key, field, value }) =>
        keep(
          value instanceof Tensor
            ? toDeviceSync(value, p.device, () => `${this.constructor.name}.loadStateDict: state "${key}.${field}" cannot be read synchronously`)
            : uploadLike(value as Float32Array, p, p.device),
        ),
      ),
    );
    const tensors = new Map(tensorEntries.map((e, i) => [e, made[i]!]));
    // Everything checked and made: replace.
    dict.paramGroups.forEach((saved, g) => {
      const { params: _p, ...options } = saved;
      Object.assign(this.paramGroups[g]!, options);
    });
    this.disposeState();
    // A parameter listed with no fields (SGD without momentum) still has state, as in stateDict().
    for (const p of statefulParams) this.state.set(p, {});
    for (const entry of entries) this.state.get(entry.p)![entry.field] = tensors.get(entry) ?? (entry.value as number);
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

/** One state value with its parameter, as loadStateDict checked it. */
interface StateEntry {
  p: Tensor;
  key: string;
  field: string;
  value: Tensor | Float32Array | number;
}

interface CheckedState {
  entries: StateEntry[];
  statefulParams: Tensor[];
}

/** Throws unless `value` is a finite number >= min (names the option and the group). */
export function checkNumber(optimizer: string, where: string, option: string, value: unknown, min = 0, max = Infinity): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new Error(`${optimizer}: ${where}: ${option} must be a number ${range}, got ${String(value)}`);
  }
}
