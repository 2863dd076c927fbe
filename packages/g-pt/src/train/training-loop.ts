// The training loop: steps until the step count, a time budget or an abort (taken only
// between steps or during the evaluate callback, so the saved state is always a completed
// step), held-out losses and evaluations with the best checkpoint, periodic checkpoints and
// the progress events.
import { disposeBatch } from './diffusion-loss.js';
import type { TrainOutput } from './train-output.js';
import type { EvaluationResult, GptTrainer, HistoryEntry, StepResult, TrainGptOptions, TrainResult } from './trainer.js';

/** The loop: steps, periodic evaluation and checkpoints, progress events, abort between steps. */
export async function runTraining(trainer: GptTrainer, options: Pick<TrainGptOptions, 'signal' | 'evaluate' | 'maxSeconds'>, output: TrainOutput | null): Promise<TrainResult> {
  const { plan } = trainer;
  const history: HistoryEntry[] = [];
  const started = performance.now();
  const firstStep = trainer.step;
  let bestHeldOutLoss: number | null = null;
  trainer.emit({
    type: 'start',
    step: trainer.step,
    totalSteps: plan.totalSteps,
    batchSize: plan.config.batchSize,
    stepsPerEpoch: trainer.stepsPerEpoch,
    modelParameters: trainer.model.parameters().reduce((n, p) => n + p.size, 0),
    device: plan.device,
    resumed: firstStep > 0,
  });
  if (firstStep === 0 && plan.evalEvery > 0) {
    // The starting point of the held-out curve: the identity model (θ̂₁ = θ₀) at step 0.
    const heldOutLoss = await trainer.heldOutLoss();
    if (heldOutLoss !== null) trainer.emit({ type: 'eval', step: 0, heldOutLoss, score: null, metrics: {}, best: false });
  }
  let aborted = false;
  let stoppedBy: TrainResult['stoppedBy'] = 'steps';
  while (trainer.step < plan.totalSteps) {
    if (options.signal?.aborted) {
      aborted = true;
      break;
    }
    // No signal here: an abort inside the draw would leave the pair stream past the last saved step.
    const batch = await trainer.drawBatch();
    let result: StepResult;
    try {
      result = await trainer.trainStep(batch);
    } finally {
      disposeBatch(batch);
    }
    const elapsed = (performance.now() - started) / 1000;
    const stepsPerSecond = (trainer.step - firstStep) / elapsed;
    trainer.emit({
      type: 'step',
      ...result,
      totalSteps: plan.totalSteps,
      epoch: trainer.step / trainer.stepsPerEpoch,
      stepsPerSecond,
      pairsPerSecond: stepsPerSecond * plan.config.batchSize,
      elapsedSeconds: elapsed,
      etaSeconds: (plan.totalSteps - trainer.step) / stepsPerSecond,
    });
    const entry: { -readonly [K in keyof HistoryEntry]: HistoryEntry[K] } = { step: result.step, loss: result.loss, lr: result.lr };
    const last = trainer.step === plan.totalSteps;
    const heldOutDue = plan.evalEvery > 0 && (trainer.step % plan.evalEvery === 0 || last);
    const evaluateDue = options.evaluate !== undefined && plan.evaluateEvery > 0 && (trainer.step % plan.evaluateEvery === 0 || last);
    let improved = false;
    if (heldOutDue || evaluateDue) {
      const outcome = await evaluateAt(trainer, options, heldOutDue, evaluateDue);
      if (outcome === 'aborted') {
        // Aborted while evaluating: the step itself is complete, so it is saved below.
        aborted = true;
        history.push(entry);
        break;
      }
      const { heldOutLoss, evaluation } = outcome;
      if (heldOutLoss !== null) {
        entry.heldOutLoss = heldOutLoss;
        if (bestHeldOutLoss === null || heldOutLoss < bestHeldOutLoss) bestHeldOutLoss = heldOutLoss;
      }
      if (evaluation) entry.score = evaluation.score;
      // With a callback its score ranks checkpoints (the paper's prompt alignment), else the held-out loss.
      const candidate = options.evaluate ? evaluation && { by: 'score' as const, value: evaluation.score } : heldOutLoss === null ? null : { by: 'heldOutLoss' as const, value: heldOutLoss };
      improved = trainer.recordEvaluation(candidate);
      trainer.emit({ type: 'eval', step: trainer.step, heldOutLoss, score: evaluation?.score ?? null, metrics: evaluation?.metrics ?? {}, best: improved });
    }
    history.push(entry);
    if (output) {
      if (trainer.step % plan.checkpointEvery === 0 || last) await output.save(trainer, 'latest');
      if (improved) await output.save(trainer, 'best');
    }
    if (!last && options.maxSeconds !== undefined && (performance.now() - started) / 1000 >= options.maxSeconds) {
      stoppedBy = 'time';
      break;
    }
  }
  if ((aborted || stoppedBy === 'time') && output && trainer.step > firstStep) await output.save(trainer, 'latest');
  const trained = trainer.trainedGpt();
  trainer.emit({ type: 'done', step: trainer.step, elapsedSeconds: (performance.now() - started) / 1000, aborted });
  if (aborted) options.signal!.throwIfAborted();
  return { trained, history, config: plan.config, steps: trainer.step, bestHeldOutLoss, stoppedBy };
}

/** The held-out loss and the callback's evaluation at the current step; 'aborted' when the signal stopped the callback. */
async function evaluateAt(
  trainer: GptTrainer,
  options: Pick<TrainGptOptions, 'signal' | 'evaluate'>,
  heldOutDue: boolean,
  evaluateDue: boolean,
): Promise<{ heldOutLoss: number | null; evaluation: EvaluationResult | null } | 'aborted'> {
  const heldOutLoss = heldOutDue ? await trainer.heldOutLoss() : null;
  try {
    const evaluation = evaluateDue ? await options.evaluate!(trainer.trainedGpt(), { step: trainer.step, signal: options.signal }) : null;
    return { heldOutLoss, evaluation };
  } catch (error) {
    if (options.signal?.aborted) return 'aborted';
    throw error;
  }
}
