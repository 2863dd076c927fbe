// The built-in tasks of the paper (gpt-paper.md §1): registered when this module loads, so
// createTask("mnist_error", ...) works in the main thread and in every worker thread that
// imports the package. Users register their own tasks with registerTask the same way.
import { CARTPOLE_FACTORY } from './cartpole.js';
import { CIFAR10_ERROR_FACTORY, CIFAR10_LOSS_FACTORY } from './cifar10.js';
import { MNIST_ERROR_FACTORY, MNIST_LOSS_FACTORY } from './mnist.js';
import { MOONS_FACTORY } from './moons.js';
import { registerTask } from './registry.js';
import type { TaskFactory } from './task.js';

/** The built-in task factories, by name. */
export const BUILTIN_TASKS: readonly TaskFactory[] = [
  MNIST_LOSS_FACTORY,
  MNIST_ERROR_FACTORY,
  CIFAR10_LOSS_FACTORY,
  CIFAR10_ERROR_FACTORY,
  CARTPOLE_FACTORY,
  MOONS_FACTORY,
] as TaskFactory[];

/** Registers the built-in tasks (idempotent: registering the same factory twice is allowed). */
export function registerBuiltinTasks(): void {
  for (const factory of BUILTIN_TASKS) registerTask(factory);
}

registerBuiltinTasks();
