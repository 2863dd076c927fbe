// Exponential moving average of a module's parameters, as G.pt keeps for evaluation
// (Gpt/utils.py accumulate): ema <- decay * ema + (1 - decay) * param after each
// optimizer step, starting from an exact copy of the parameters.

import { add, keep, mul, noGrad, tidy, type Tensor } from '@gpt/tensor';
import type { Module, StateDict } from '../module.js';

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

  /** Moves the average toward the module's current parameters. */
  update(module: Module): void {
    const params = this.matching(module, 'update');
    noGrad(() =>
      tidy(() => {
        for (const [name, p] of params) {
          const previous = this.shadow.get(name)!;
          const next = add(mul(previous, this.decay), mul(p, 1 - this.decay));
          this.shadow.set(name, keep(next));
          previous.dispose();
        }
      }),
    );
  }

  /** Loads the averaged values into `module`'s parameters (e.g. an evaluation copy). */
  copyTo(module: Module): void {
    for (const [name, p] of this.matching(module, 'copyTo')) p.assign(this.shadow.get(name)!);
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
