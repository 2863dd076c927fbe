// What a training run reports while it runs: typed events for progress bars, logs and
// tests. Every metric event also becomes one line of the run's JSONL log.

export type TrainEvent =
  /** The dataset is open and checked; normalization is next (or restored). */
  | { type: 'data'; dataset: string; task: string; trainRuns: number; testRuns: number; parameterCount: number }
  /** Progress of the normalization estimate (checkpoints read). */
  | { type: 'normalization-progress'; done: number; total: number }
  | { type: 'normalization'; coefficient: number; std: number | null; numSamples: number; restored: boolean }
  /** The loop starts (at `step` > 0 when resumed). */
  | { type: 'start'; step: number; totalSteps: number; batchSize: number; stepsPerEpoch: number; modelParameters: number; device: string; resumed: boolean }
  /** One optimizer step done. */
  | {
      type: 'step';
      step: number;
      totalSteps: number;
      epoch: number;
      loss: number;
      lr: number;
      /** Global gradient norm before clipping (null when clipping is off). */
      gradNorm: number | null;
      emaDecay: number;
      stepsPerSecond: number;
      pairsPerSecond: number;
      elapsedSeconds: number;
      etaSeconds: number;
    }
  /** Held-out diffusion loss of the raw model on the fixed test-split pairs; `score` from the evaluate callback. */
  | { type: 'eval'; step: number; heldOutLoss: number | null; score: number | null; metrics: Readonly<Record<string, number>>; best: boolean }
  /** One file of a checkpoint written (the checkpoint counts only once `checkpoint` follows). */
  | { type: 'checkpoint-file'; step: number; file: string }
  | { type: 'checkpoint'; step: number; dir: string; kind: 'latest' | 'best' }
  | { type: 'done'; step: number; elapsedSeconds: number; aborted: boolean };

export type TrainEventType = TrainEvent['type'];
