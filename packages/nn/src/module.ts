// The Module base class, modelled on torch.nn.Module. A module's parameters,
// buffers and children are its own properties, discovered in insertion order
// (class fields in declaration order), so the state-dict keys come out exactly as
// PyTorch names them: own parameters, then own buffers, then each child's entries
// under its property name (`fc1.weight`); arrays of modules act as a ModuleList
// (`blocks.0.attn.weight`) and Sequential stores its layers under "0", "1", ...
//
// A tensor is a parameter or buffer because it was marked with parameter() or
// buffer(), not because of where it is stored; the mark survives Tensor.assign,
// which is how optimizers and loadStateDict update values without changing the handle.

import { getBackend, keep, noGrad, Tensor, type TypedArray } from '@gpt/tensor';
import { holdsDtype, isHostReadable, makeAll, toDeviceSync, typedArrayName, uploadLike } from './devices.js';

const PARAMETERS = new WeakSet<Tensor>();
const BUFFERS = new WeakSet<Tensor>();

/**
 * Marks `t` as a trainable parameter (like torch.nn.Parameter): a leaf that requires
 * grad and survives tidy scopes. Returns the same handle.
 */
export function parameter(t: Tensor): Tensor {
  if (t.dtype !== 'float32') throw new Error(`parameter: parameters must be float32, got ${t.dtype}`);
  if (t.node) throw new Error('parameter: expected a leaf tensor; detach() the result of an op first');
  BUFFERS.delete(t);
  PARAMETERS.add(t);
  t.requiresGrad = true;
  return keep(t);
}

/** Marks `t` as a buffer: module state that is saved in the state dict but not trained. */
export function buffer(t: Tensor): Tensor {
  PARAMETERS.delete(t);
  BUFFERS.add(t);
  return keep(t);
}

export function isParameter(value: unknown): value is Tensor {
  return value instanceof Tensor && PARAMETERS.has(value);
}

function isBuffer(value: unknown): value is Tensor {
  return value instanceof Tensor && BUFFERS.has(value);
}

/** A state dict: key -> tensor, in state-dict order (a plain object keeps insertion order for these keys). */
export type StateDict = Record<string, Tensor>;

/**
 * What loadStateDict takes: key -> a tensor on any device, or the values of the
 * module's tensor as a host array (Float32Array, Int32Array or Uint8Array for bool).
 */
export type StateDictInput = Readonly<Record<string, Tensor | TypedArray>>;

export interface LoadStateDictOptions {
  /** Require exactly the module's keys (default true); when false, missing and unexpected keys are skipped. */
  strict?: boolean;
}

export abstract class Module {
  /** Training mode (dropout active); switch with train() / eval(). */
  training = true;

  /** Own parameters in declaration order (without children's). */
  ownParameters(): [string, Tensor][] {
    return Object.entries(this).filter((entry): entry is [string, Tensor] => isParameter(entry[1]));
  }

  /** Own buffers in declaration order. */
  ownBuffers(): [string, Tensor][] {
    return Object.entries(this).filter((entry): entry is [string, Tensor] => isBuffer(entry[1]));
  }

  /** Direct children: module properties, and arrays of modules named `name.i` (ModuleList). */
  namedChildren(): [string, Module][] {
    const children: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) children.push([key, value]);
      else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Module)) {
        value.forEach((child: Module, i) => children.push([`${key}.${i}`, child]));
      }
    }
    return children;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and all descendants, depth first, with dotted names ("" for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const result: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) {
      result.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    }
    return result;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Every parameter with its dotted name, in state-dict order; a tensor shared by two modules is listed once. */
  namedParameters(): [string, Tensor][] {
    return this.collect((m) => m.ownParameters());
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(): [string, Tensor][] {
    return this.collect((m) => m.ownBuffers());
  }

  /** Number of scalar parameters (each shared tensor counted once). */
  get parameterCount(): number {
    return this.parameters().reduce((total, p) => total + p.size, 0);
  }

  private collect(own: (m: Module) => [string, Tensor][]): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const result: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of own(m)) {
        if (seen.has(t)) continue;
        seen.add(t);
        result.push([prefix ? `${prefix}.${name}` : name, t]);
      }
    }
    return result;
  }

  /** The (key, tensor) entries of the state dict: per module, parameters then buffers, like PyTorch. */
  private stateEntries(): [string, Tensor][] {
    const result: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of [...m.ownParameters(), ...m.ownBuffers()]) {
        result.push([prefix ? `${prefix}.${name}` : name, t]);
      }
    }
    return result;
  }

  /**
   * The module's state as key -> tensor with PyTorch's key names. Each value is a new
   * handle sharing the current data (a snapshot: later optimizer steps replace the
   * parameters' data and leave it unchanged); dispose the values when done (tidy works).
   */
  stateDict(): StateDict {
    const dict: StateDict = {};
    for (const [key, t] of this.stateEntries()) dict[key] = t.detach();
    return dict;
  }

  /** The state-dict keys and shapes, in order (no tensors created). */
  stateShapes(): [string, readonly number[]][] {
    return this.stateEntries().map(([key, t]) => [key, t.shape]);
  }

  /** The state-dict keys and the device each tensor lives on, in order. */
  stateDevices(): [string, string][] {
    return this.stateEntries().map(([key, t]) => [key, t.device]);
  }

  /**
   * Copies values from a state dict into this module's parameters and buffers (the
   * handles stay the same). A value is a tensor (any device: it is copied to the
   * module's) or a host array of the module's shape (Float32Array for float32 tensors,
   * Int32Array for int32, Uint8Array for bool). Checks everything before changing
   * anything: an error lists the missing, unexpected and mis-shaped keys.
   *
   * Synchronous, so a tensor on a device the host cannot read synchronously (WebGPU)
   * is accepted only when the module's tensor lives there too; otherwise use
   * `await module.loadStateDictAsync(dict)`.
   */
  loadStateDict(dict: StateDictInput, options: LoadStateDictOptions = {}): void {
    const pairs = this.checkStateDict(dict, options);
    for (const [key, target, value] of pairs) {
      if (value instanceof Tensor && value.device !== target.device && !isHostReadable(value)) {
        throw new Error(
          `loadStateDict (${this.constructor.name}): "${key}" lives on "${value.device}", which cannot be read synchronously, and the module's tensor on "${target.device}"; use await module.loadStateDictAsync(dict)`,
        );
      }
    }
    assignAll(pairs.map(([, target, value]) => [target, value]));
  }

  /** loadStateDict for values on any device: reads them back to the host where needed. */
  async loadStateDictAsync(dict: StateDictInput, options: LoadStateDictOptions = {}): Promise<void> {
    const pairs = this.checkStateDict(dict, options);
    // A device-to-host read per value that must change device; nothing is assigned
    // until every read has succeeded.
    const values = await Promise.all(
      pairs.map(([, target, value]) => (value instanceof Tensor && value.device !== target.device && !isHostReadable(value) ? value.data() : value)),
    );
    assignAll(pairs.map(([, target], i) => [target, values[i]!]));
  }

  /** Validates a state dict against this module; returns (key, target, value) for every key to load. */
  private checkStateDict(dict: StateDictInput, options: LoadStateDictOptions): [string, Tensor, Tensor | TypedArray][] {
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict) || ArrayBuffer.isView(dict)) {
      const got = dict === null ? 'null' : Array.isArray(dict) ? 'an array' : ArrayBuffer.isView(dict) ? 'a typed array' : typeof dict;
      throw new TypeError(`loadStateDict (${this.constructor.name}): the state dict must be an object of key -> tensor or host array, got ${got}`);
    }
    const strict = options.strict ?? true;
    const entries = this.stateEntries();
    const own = new Set(entries.map(([key]) => key));
    // Own keys only: "constructor" or "toString" must not be found on Object.prototype.
    const valueOf = (key: string): Tensor | TypedArray | undefined => (Object.hasOwn(dict, key) ? dict[key] : undefined);
    const missing = entries.filter(([key]) => valueOf(key) === undefined).map(([key]) => key);
    const unexpected = Object.keys(dict).filter((key) => !own.has(key));
    const problems: string[] = [];
    if (strict && missing.length > 0) problems.push(`missing keys: ${missing.join(', ')}`);
    if (strict && unexpected.length > 0) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
    const pairs: [string, Tensor, Tensor | TypedArray][] = [];
    for (const [key, target] of entries) {
      const value = valueOf(key);
      if (!value) continue;
      const problem = valueProblem(value, target);
      if (problem) problems.push(`"${key}" ${problem}`);
      else pairs.push([key, target, value]);
    }
    if (problems.length > 0) {
      throw new Error(`loadStateDict (${this.constructor.name}): ${problems.join('; ')}`);
    }
    return pairs;
  }

  /**
   * Moves every parameter, buffer and gradient to `device` in place, like PyTorch's
   * `module.to(device)`: the handles stay the same, so an optimizer or EMA built on
   * them stays attached (their state follows at their next step). Synchronous when
   * the tensors are on a host-readable device (the CPU) or already on `device`; from
   * WebGPU use `await module.toAsync(device)`. Returns the module.
   */
  to(device: string): this {
    getBackend(device);
    const tensors = this.tensorsOffDevice(device);
    const stuck = tensors.find(([, t]) => !isHostReadable(t));
    if (stuck) {
      throw new Error(
        `${this.constructor.name}.to("${device}"): "${stuck[0]}" lives on "${stuck[1].device}", which cannot be read synchronously; use await module.toAsync("${device}")`,
      );
    }
    const moved = makeAll(tensors, ([, t]) => t.to(device));
    this.replaceData(tensors, moved);
    return this;
  }

  /** Module.to for tensors on any device (reads them back to the host where needed). */
  async toAsync(device: string): Promise<this> {
    getBackend(device);
    const tensors = this.tensorsOffDevice(device);
    const results = await Promise.allSettled(tensors.map(([, t]) => t.toAsync(device)));
    const moved = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      for (const t of moved) t.dispose();
      throw failed.reason;
    }
    this.replaceData(tensors, moved);
    return this;
  }

  /** Parameters, buffers and gradients not on `device`, each once, named for errors. */
  private tensorsOffDevice(device: string): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const result: [string, Tensor][] = [];
    for (const [key, t] of this.stateEntries()) {
      if (seen.has(t)) continue;
      seen.add(t);
      if (t.device !== device) result.push([key, t]);
      if (t.grad && t.grad.device !== device) result.push([`${key}.grad`, t.grad]);
    }
    return result;
  }

  /** Points each tensor at its moved copy (a gradient is replaced; leaves keep their handle). */
  private replaceData(tensors: readonly [string, Tensor][], moved: readonly Tensor[]): void {
    const owners = new Map<Tensor, Tensor>();
    for (const [, t] of this.stateEntries()) if (t.grad) owners.set(t.grad, t);
    tensors.forEach(([, t], i) => {
      const copy = moved[i]!;
      const owner = owners.get(t);
      if (owner) {
        owner.grad = keep(copy);
        t.dispose();
      } else {
        t.assign(copy, { allowDeviceChange: true });
        copy.dispose();
      }
    });
  }

  /** Sets training mode here and in every descendant (dropout reads it). */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Disposes and clears every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees every parameter and buffer; the module cannot be used afterwards. */
  dispose(): void {
    for (const [, t] of this.stateEntries()) t.dispose();
  }

  /** One line per module, like PyTorch's repr. */
  toString(): string {
    const lines = this.namedChildren().map(([name, child]) => `  (${name}): ${child.toString().split('\n').join('\n  ')}`);
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    return lines.length === 0 ? `${head})` : `${head}\n${lines.join('\n')}\n)`;
  }

  /** The constructor arguments shown by toString (override in layers). */
  protected extraRepr(): string {
    return '';
  }
}

/** A module that maps one tensor to one tensor (what Sequential chains). */
export interface Layer extends Module {
  forward(x: Tensor): Tensor;
}

/** Why `value` cannot be loaded into `target`, or null if it can. */
function valueProblem(value: unknown, target: Tensor): string | null {
  const expected = `[${target.shape.join(', ')}]`;
  if (ArrayBuffer.isView(value)) {
    const values = value as TypedArray;
    if (!holdsDtype(values, target.dtype)) {
      return `is ${value.constructor.name}, expected ${typedArrayName(target.dtype)} (the module's tensor is ${target.dtype})`;
    }
    if (values.length !== target.size) return `has ${values.length} values, expected ${target.size} for shape ${expected}`;
    return null;
  }
  if (!(value instanceof Tensor)) return 'is not a Tensor or a typed array';
  if (value.isDisposed) return 'was disposed';
  if (value.shape.length !== target.shape.length || value.shape.some((d, i) => d !== target.shape[i])) {
    return `has shape [${value.shape.join(', ')}], expected ${expected}`;
  }
  if (value.dtype !== target.dtype) return `has dtype ${value.dtype}, expected ${target.dtype}`;
  return null;
}

/**
 * Assigns each value to its target, copying host arrays and other devices' tensors
 * to the target's device first. All copies are made before the first assignment,
 * so a failed upload changes nothing.
 */
function assignAll(pairs: readonly [Tensor, Tensor | TypedArray][]): void {
  noGrad(() => {
    const sources = makeAll(pairs, ([target, value]) =>
      value instanceof Tensor
        ? toDeviceSync(value, target.device, () => `loadStateDict: a value on "${value.device}" cannot be read synchronously`)
        : uploadLike(value, target, target.device),
    );
    pairs.forEach(([target], i) => target.assign(sources[i]!));
    for (const t of sources) t.dispose();
  });
}
