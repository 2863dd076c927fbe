// Exponential moving average of a module's parameters, as G.pt keeps for evaluation
// (Gpt/utils.py accumulate): ema <- decay * ema + (1 - decay) * param after each
// optimizer step, starting from an exact copy of the parameters.

import { add, keep, mul, noGrad, tidy, type Tensor } from '@gpt/tensor';
import { toDeviceSync } from '../devices.js';
import type { Module, StateDict } from '../module.js';
import { StepScalars } from './step-scalars.js';

export class EMA {
  /** Shadow values keyed by parameter name, in namedParameters() order. */
  readonly shadow = new Map<string, Tensor>();

  constructor(
    module: Module,
    readonly decay = 0.9999,
  ) {
    if (!(decay >= 0 && decay <= 1)) throw new Error(`EMA: decay must be in [0, 1], got ${decay}`);
    for (const [name, p] of module.namedParameters()) this.shadow.set(name, keep(p.detach()));
  }

  /**
   * Moves the average toward the module's current parameters. An average follows its
   * parameter's device (after module.to): moved here from a host-readable device,
   * else call `await ema.toAsync(device)` first.
   */
  update(module: Module): void {
    const params = this.matching(module, 'update');
    for (const [name, p] of params) this.follow(name, p.device, 'update');
    const scalars = new StepScalars();
    try {
      noGrad(() =>
        tidy(() => {
          for (const [name, p] of params) {
            // Two numbers per device, uploaded once per update rather than per parameter.
            const { decay, rest } = scalars.get({ decay: this.decay, rest: 1 - this.decay }, p.device);
            const previous = this.shadow.get(name)!;
            const next = add(mul(previous, decay), mul(p, rest));
            this.shadow.set(name, keep(next));
            previous.dispose();
          }
        }),
      );
    } finally {
      scalars.dispose();
    }
  }

  /** Loads the averaged values into `module`'s parameters (e.g. an evaluation copy), on each parameter's device. */
  copyTo(module: Module): void {
    const params = this.matching(module, 'copyTo');
    for (const [name, p] of params) this.follow(name, p.device, 'copyTo');
    for (const [name, p] of params) p.assign(this.shadow.get(name)!);
  }

  /** Moves the averages to `device` (synchronous from a host-readable device, like Module.to). */
  to(device: string): this {
    for (const name of this.shadow.keys()) this.follow(name, device, 'to');
    return this;
  }

  /** EMA.to from any device. */
  async toAsync(device: string): Promise<this> {
    for (const [name, t] of this.shadow) {
      if (t.device === device) continue;
      this.shadow.set(name, keep(await t.toAsync(device)));
      t.dispose();
    }
    return this;
  }

  /** Moves one average to `device` if it is elsewhere; refuses a device-to-host read. */
  private follow(name: string, device: string, method: string): void {
    const t = this.shadow.get(name)!;
    if (t.device === device) return;
    const moved = toDeviceSync(
      t,
      device,
      () => `EMA.${method}: the average of "${name}" lives on "${t.device}", which cannot be read synchronously, and the parameter on "${device}"; call await ema.toAsync("${device}") first`,
    );
    this.shadow.set(name, keep(moved));
    t.dispose();
  }

  /** The averaged parameters under their names: new handles; dispose when done. */
  stateDict(): StateDict {
    const dict: StateDict = {};
    for (const [name, t] of this.shadow) dict[name] = t.detach();
    return dict;
  }

  /** Restores averages saved by stateDict() (same names and shapes). */
  loadStateDict(dict: Readonly<Record<string, Tensor>>): void {
    const missing = [...this.shadow.keys()].filter((k) => !(k in dict));
    const unexpected = Object.keys(dict).filter((k) => !this.shadow.has(k));
    const misshaped = [...this.shadow].filter(([k, t]) => k in dict && dict[k]!.shape.join(',') !== t.shape.join(','));
    if (missing.length + unexpected.length + misshaped.length > 0) {
      const parts = [
        missing.length ? `missing keys: ${missing.join(', ')}` : '',
        unexpected.length ? `unexpected keys: ${unexpected.join(', ')}` : '',
        ...misshaped.map(([k, t]) => `"${k}" has shape [${dict[k]!.shape.join(', ')}], expected [${t.shape.join(', ')}]`),
      ].filter(Boolean);
      throw new Error(`EMA.loadStateDict: ${parts.join('; ')}`);
    }
    for (const [name, t] of this.shadow) {
      this.shadow.set(name, keep(dict[name]!.detach()));
      t.dispose();
    }
  }

  dispose(): void {
    for (const t of this.shadow.values()) t.dispose();
    this.shadow.clear();
  }

  private matching(module: Module, method: string): [string, Tensor][] {
    const params = module.namedParameters();
    const names = params.map(([n]) => n);
    if (names.length !== this.shadow.size || names.some((n, i) => !this.shadow.has(n) || this.shadow.get(n)!.shape.join(',') !== params[i]![1].shape.join(','))) {
      throw new Error(`EMA.${method}: the module's parameters (${names.join(', ')}) do not match the averaged ones (${[...this.shadow.keys()].join(', ')})`);
    }
    return params;
  }
}
