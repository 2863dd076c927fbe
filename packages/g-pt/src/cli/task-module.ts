// What `gpt data`, `gpt train` and `gpt worker` share about naming a task on the command
// line: --task-module as a module URL, and an unknown --task as a usage error that says
// how a custom task is named.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliUsageError } from './options.js';

/** The module URL of --task-module (a path, relative to the working folder, or a URL). */
export function taskModuleUrl(spec: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !isAbsolute(spec)) return spec;
  return pathToFileURL(resolve(spec)).href;
}

/**
 * The registry's "unknown task" error as a usage error on --task (exit code 2), with the
 * hint about --task-module when none was given; any other error is returned unchanged.
 */
export function taskUsageError(error: unknown, taskModuleGiven: boolean): unknown {
  if (error instanceof Error && /^unknown task/.test(error.message)) {
    return new CliUsageError(`--task: ${error.message}${taskModuleGiven ? ' (the --task-module given did not register it)' : ' (a custom task needs --task-module FILE)'}`, '--task');
  }
  return error;
}
