// Lets long synchronous-looking loops give the event loop a turn now and then, so that an
// AbortSignal fired by a timer or a UI event can actually be delivered mid-loop, without
// paying a macrotask per step.

export class TimeSlicer {
  private last = Date.now();

  constructor(private readonly sliceMs = 20) {}

  /** Awaits a macrotask when more than `sliceMs` passed since the last one. */
  async tick(): Promise<void> {
    if (Date.now() - this.last < this.sliceMs) return;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    this.last = Date.now();
  }
}
