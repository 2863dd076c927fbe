// The `gpt` command: `gpt <command> [options]`. Each command is a module of this folder
// exporting its option spec (`cli`) and `main`; it is loaded only when named, so that
// `gpt data` does not load the sampler and `gpt --help` loads nothing. Commands only
// parse options, call the API and print its progress events.
import { closestFlag, runCli, type CliSpec, type CliValues, type OptionSpecs } from './options.js';

/** What a command module exports. */
export interface CommandModule<S extends OptionSpecs = OptionSpecs> {
  readonly cli: CliSpec<S>;
  main(values: CliValues<S>, positionals: readonly string[]): Promise<void> | void;
}

interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<CommandModule>;
}

/** The commands, in the order `gpt --help` lists them (the pipeline's order). */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  // Each command adds itself here when its module exists, e.g.
  // data: { summary: 'generate a checkpoint dataset of a task', load: () => import('./data.js') },
  data: { summary: 'generate a checkpoint dataset of a task (resumable)', load: () => import('./data.js') },
  worker: { summary: 'train dataset-generation jobs of gpt data --queue on this machine (many machines, one queue)', load: () => import('./worker.js') },
  convert: { summary: 'convert an official G.pt LMDB checkpoint dataset into this format', load: () => import('./convert.js') },
  train: { summary: 'train G.pt on a checkpoint dataset (resumable)', load: () => import('./train.js') },
  eval: { summary: 'prompt alignment, recursive prompting and G.pt vs Adam/SGD of a trained G.pt on unseen networks', load: () => import('./eval.js') },
  optimize: { summary: 'one G.pt update of parameter vectors (random initializations or a file), measured by the task', load: () => import('./optimize.js') },
  demo: { summary: 'the whole pipeline on the CPU in under 10 minutes: data, G.pt, one update vs Adam, prompt alignment, plots', load: () => import('./demo.js') },
};

export function gptHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(0, ...names.map((n) => n.length));
  const rows = names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`);
  return ['usage: gpt <command> [options]   (gpt <command> --help lists its options)', '', 'commands:', ...rows, ''].join('\n');
}

/** Runs `gpt` with `argv` (without the node and script paths); sets process.exitCode. */
export async function runGpt(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(gptHelp());
    if (name === undefined) process.exitCode = 2;
    return;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    const close = closestFlag(`--${name}`, Object.keys(COMMANDS).map((n) => `--${n}`));
    process.stderr.write(`gpt: unknown command "${name}"${close ? ` (did you mean "${close.slice(2)}"?)` : ''}\n${gptHelp()}`);
    process.exitCode = 2;
    return;
  }
  const command = await entry.load();
  await runCli(command.cli, command.main, rest);
}
