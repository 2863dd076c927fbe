// Tasks by name. The built-in tasks register here; users add theirs with registerTask,
// and worker threads rebuild a task from its name and JSON options (plus, for a custom
// task, the module that registers it: TaskFactory.moduleUrl).
import type { Task, TaskFactory } from './task.js';

const factories = new Map<string, TaskFactory>();

/** Adds a task factory; registering a second factory under a taken name is an error. */
export function registerTask<Options extends Record<string, unknown>>(factory: TaskFactory<Options>): void {
  const existing = factories.get(factory.name);
  if (existing && existing !== (factory as unknown as TaskFactory)) {
    throw new Error(`registerTask: a task named "${factory.name}" is already registered`);
  }
  factories.set(factory.name, factory as unknown as TaskFactory);
}

/** The factory registered as `name`; an unknown name is an error listing the known ones. */
export function getTaskFactory(name: string): TaskFactory {
  const factory = factories.get(name);
  if (!factory) {
    throw new Error(`unknown task "${name}"; known tasks: ${taskNames().join(', ') || '(none registered)'}`);
  }
  return factory;
}

/** Builds the task registered as `name` with `options` (data folders, recipe knobs). */
export async function createTask(name: string, options: Record<string, unknown> = {}): Promise<Task> {
  // The built-in tasks register when builtin.ts loads; importing it here (not statically:
  // builtin.ts imports this module) makes them known to any caller, a worker thread included.
  await import('./builtin.js');
  return getTaskFactory(name).create(options);
}

/** Registered task names, sorted. */
export function taskNames(): string[] {
  return [...factories.keys()].sort();
}
