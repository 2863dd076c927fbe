// The one option parser of every command-line program in the repository: the examples, the
// benchmarks and the `gpt` CLI. A program declares its options once (name, type, default,
// description, allowed values); from that spec come the typed values, `--help`, and errors
// that name the problem (an unknown option with its close match, a malformed number, a
// missing value). Parsing is a pure function that returns values or throws CliUsageError;
// runCli is the thin layer that prints and sets the exit code (2 for usage errors, as
// POSIX utilities do), so the parsing itself is unit-testable.
//
// Built on node:util parseArgs with strict: true; its own errors are re-phrased here
// because they neither suggest a close match nor say how to pass a negative number.

import { parseArgs } from 'node:util';

export type OptionType = 'number' | 'integer' | 'string' | 'boolean';

/** One option. Its flag is the kebab-case form of its key: `batchSize` is `--batch-size`. */
export interface OptionSpec {
  readonly type: OptionType;
  /** One line for --help. */
  readonly description: string;
  /** Used when the option is absent (booleans default to false). */
  readonly default?: number | string | boolean;
  /** The only values accepted (numbers or strings). */
  readonly choices?: readonly (number | string)[];
  /** Bounds for number and integer options, inclusive. */
  readonly min?: number;
  readonly max?: number;
  /** Absence is an error. */
  readonly required?: boolean;
  /** One-letter alias, e.g. 'n' for -n. */
  readonly short?: string;
  /** Name of the value in --help (default N for numbers, VALUE for strings, the choices when given). */
  readonly placeholder?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface CliSpec<S extends OptionSpecs = OptionSpecs> {
  /** How the program is invoked, for usage lines and errors, e.g. "pnpm example mnist-mlp". */
  readonly name: string;
  /** A sentence or two for the top of --help. */
  readonly summary?: string;
  readonly options: S;
  /** Positional arguments the program takes (none when absent), e.g. { name: 'FILE', description: '...' }. */
  readonly positionals?: { readonly name: string; readonly description: string };
}

type ValueOf<O extends OptionSpec> = O extends { type: 'boolean' }
  ? boolean
  : O extends { choices: readonly (infer C)[] }
    ? C
    : O extends { type: 'string' }
      ? string
      : number;

/** The parsed values: an option with a default, a required one or a boolean is always set. */
export type CliValues<S extends OptionSpecs> = {
  -readonly [K in keyof S]: S[K] extends { default: unknown } | { required: true } | { type: 'boolean' } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

export type CliParse<S extends OptionSpecs> =
  | { readonly help: false; readonly values: CliValues<S>; readonly positionals: readonly string[] }
  | { readonly help: true; readonly text: string };

/** A mistake on the command line (exit code 2); `option` names the flag when there is one. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly option?: string,
    /** The known option closest to an unknown one, as a flag. */
    readonly suggestion?: string,
  ) {
    super(message);
  }
}

/**
 * Declares a command's options; the `const` type parameter keeps literal types
 * (type: 'integer', the choices) so that parseCli returns precise value types.
 */
export function defineCli<const S extends OptionSpecs>(spec: CliSpec<S>): CliSpec<S> {
  checkSpec(spec);
  return spec;
}

export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

// Mistakes in a spec are the programmer's, not the user's: plain Errors, thrown at definition.
function checkSpec(spec: CliSpec): void {
  const shorts = new Set<string>(['h']);
  for (const [key, option] of Object.entries(spec.options)) {
    const where = `${spec.name}: option ${flagOf(key)}`;
    if (!/^[a-z][A-Za-z0-9]*$/.test(key)) throw new Error(`${where}: keys are camelCase identifiers`);
    if (key === 'help') throw new Error(`${where}: --help is built in`);
    if (!['number', 'integer', 'string', 'boolean'].includes(option.type)) throw new Error(`${where}: unknown type "${String(option.type)}"`);
    if (option.short !== undefined) {
      if (!/^[A-Za-z]$/.test(option.short) || shorts.has(option.short)) throw new Error(`${where}: short alias "${option.short}" is not one free letter`);
      shorts.add(option.short);
    }
    if (option.type === 'boolean' && (option.choices || option.required || (option.default !== undefined && typeof option.default !== 'boolean'))) {
      throw new Error(`${where}: a boolean takes no choices, is never required, and defaults to true or false`);
    }
    if (option.default !== undefined && option.type !== 'boolean') {
      const problem = valueProblem(option, option.default);
      if (problem) throw new Error(`${where}: default ${JSON.stringify(option.default)} ${problem}`);
    }
  }
}

/** Why `value` is not acceptable for `option`, or null. */
function valueProblem(option: OptionSpec, value: unknown): string | null {
  if (option.type === 'string') {
    if (typeof value !== 'string') return 'is not a string';
  } else if (typeof value !== 'number' || !Number.isFinite(value)) {
    return 'is not a finite number';
  } else {
    if (option.type === 'integer' && !Number.isSafeInteger(value)) return 'is not an integer';
    if (option.min !== undefined && value < option.min) return `is below the minimum ${option.min}`;
    if (option.max !== undefined && value > option.max) return `is above the maximum ${option.max}`;
  }
  if (option.choices && !option.choices.includes(value as number | string)) return `is not one of ${option.choices.join(', ')}`;
  return null;
}

// Decimal numbers only: Number() would also take '', '0x1f', 'Infinity' and '1_000'.
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function convert(key: string, option: OptionSpec, text: string): number | string {
  const flag = flagOf(key);
  let value: number | string = text;
  if (option.type === 'number' || option.type === 'integer') {
    const kind = option.type === 'integer' ? 'an integer' : 'a number';
    if (!NUMBER.test(text.trim())) throw new CliUsageError(`${flag} takes ${kind}, got "${text}"`, flag);
    value = Number(text);
    if (option.type === 'integer' && !Number.isSafeInteger(value)) throw new CliUsageError(`${flag} takes an integer, got "${text}"`, flag);
  }
  const problem = valueProblem(option, value);
  if (problem) throw new CliUsageError(`${flag} ${JSON.stringify(text)} ${problem}`, flag);
  return value;
}

/** Edit distance with adjacent transpositions (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known flag an unknown one most likely meant: a unique prefix, else the nearest within a third of its length. */
export function closestFlag(unknown: string, known: readonly string[]): string | undefined {
  const name = unknown.replace(/^-+/, '');
  const names = known.map((k) => k.replace(/^-+/, ''));
  const prefixed = names.filter((k) => k.startsWith(name));
  if (name.length >= 2 && prefixed.length === 1) return `--${prefixed[0]}`;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3));
  for (const k of names) {
    const distance = editDistance(name, k);
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = k;
      bestDistance = distance;
    }
  }
  return best === undefined ? undefined : `--${best}`;
}

type ParseArgsOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;

function parseArgsOptions(spec: CliSpec): ParseArgsOptions {
  const options: ParseArgsOptions = { help: { type: 'boolean', short: 'h' } };
  for (const [key, option] of Object.entries(spec.options)) {
    options[flagOf(key).slice(2)] = { type: option.type === 'boolean' ? 'boolean' : 'string', ...(option.short ? { short: option.short } : {}) };
  }
  return options;
}

// parseArgs (strict) found a mistake; find it again in its tokens (non-strict) to say what it was.
function explain(spec: CliSpec, argv: readonly string[], options: ParseArgsOptions, error: Error): CliUsageError {
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const known = Object.keys(options).map((n) => `--${n}`);
  for (const token of tokens) {
    if (token.kind === 'positional' && !spec.positionals) {
      return new CliUsageError(`unexpected argument "${token.value}" (this command takes only --options)`);
    }
    if (token.kind !== 'option') continue;
    const config = options[token.name];
    if (!config) {
      const suggestion = token.rawName.startsWith('--') ? closestFlag(token.rawName, known) : undefined;
      return new CliUsageError(`unknown option ${token.rawName}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`, token.rawName, suggestion);
    }
    const flag = `--${token.name}`;
    if (config.type === 'boolean' && token.inlineValue) return new CliUsageError(`${flag} takes no value (got "${token.value}")`, flag);
    if (config.type === 'string' && token.value === undefined) return new CliUsageError(`${flag} needs a value`, flag);
    if (config.type === 'string' && !token.inlineValue && token.value!.startsWith('-') && token.value !== '-') {
      return new CliUsageError(`${flag} needs a value (got the option-like "${token.value}"; write ${flag}=${token.value} for a value starting with "-")`, flag);
    }
  }
  return new CliUsageError(error.message);
}

/**
 * Parses `argv` (without the node and script paths) against `spec`: the typed values and
 * positionals, or { help: true, text } when --help/-h is given. Throws CliUsageError.
 */
export function parseCli<S extends OptionSpecs>(spec: CliSpec<S>, argv: readonly string[]): CliParse<S> {
  const options = parseArgsOptions(spec);
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: spec.positionals !== undefined });
  } catch (error) {
    // --help wins over mistakes elsewhere on the line: the user is asking how to fix them.
    if (argv.includes('--help') || argv.includes('-h')) return { help: true, text: formatHelp(spec) };
    throw explain(spec, argv, options, error as Error);
  }
  if (parsed.values.help) return { help: true, text: formatHelp(spec) };
  const values: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(spec.options)) {
    const raw = parsed.values[flagOf(key).slice(2)];
    if (option.type === 'boolean') values[key] = raw === undefined ? (option.default ?? false) : raw;
    else if (raw !== undefined) values[key] = convert(key, option, raw as string);
    else if (option.required) throw new CliUsageError(`${flagOf(key)} is required: ${option.description}`, flagOf(key));
    else values[key] = option.default;
  }
  return { help: false, values: values as CliValues<S>, positionals: parsed.positionals };
}

function placeholderOf(option: OptionSpec): string {
  if (option.placeholder) return option.placeholder;
  if (option.choices) return option.choices.join('|');
  return option.type === 'string' ? 'VALUE' : 'N';
}

/** The --help text: usage line, summary, one line per option with its default and allowed values. */
export function formatHelp(spec: CliSpec): string {
  const rows: [string, string][] = [];
  for (const [key, option] of Object.entries(spec.options)) {
    const flags = `${option.short ? `-${option.short}, ` : '    '}${flagOf(key)}${option.type === 'boolean' ? '' : ` ${placeholderOf(option)}`}`;
    const notes: string[] = [];
    if (option.required) notes.push('required');
    if (option.default !== undefined && option.default !== false) notes.push(`default ${option.default}`);
    if (option.type !== 'boolean' && (option.min !== undefined || option.max !== undefined)) {
      notes.push(option.max === undefined ? `>= ${option.min}` : option.min === undefined ? `<= ${option.max}` : `${option.min}..${option.max}`);
    }
    rows.push([flags, `${option.description}${notes.length ? ` (${notes.join('; ')})` : ''}`]);
  }
  rows.push(['-h, --help', 'show this help and exit']);
  const width = Math.max(...rows.map(([flags]) => flags.length));
  const lines = [`usage: ${spec.name} [options]${spec.positionals ? ` ${spec.positionals.name}...` : ''}`];
  if (spec.summary) lines.push('', spec.summary);
  if (spec.positionals) lines.push('', `${spec.positionals.name}: ${spec.positionals.description}`);
  lines.push('', 'options:', ...rows.map(([flags, text]) => `  ${flags.padEnd(width)}  ${text}`));
  return `${lines.join('\n')}\n`;
}

/** Where runCli writes and how it ends; tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  setExitCode(code: number): void;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

/**
 * Parses the command line and runs `main` with the values. --help prints the help (exit
 * code 0); a usage mistake prints it with a pointer to --help (exit code 2), also when
 * `main` throws a CliUsageError; any other error thrown by `main` prints its message
 * (exit code 1; GPT_DEBUG=1 prints the stack).
 * Sets process.exitCode rather than exiting, so pending output is flushed.
 */
export async function runCli<S extends OptionSpecs>(
  spec: CliSpec<S>,
  main: (values: CliValues<S>, positionals: readonly string[]) => Promise<void> | void,
  argv: readonly string[] = process.argv.slice(2),
  io: CliIo = processIo,
): Promise<void> {
  const usage = (error: CliUsageError): void => {
    io.stderr(`${spec.name}: ${error.message}\nRun with --help to list the options.\n`);
    io.setExitCode(error.exitCode);
  };
  let parsed: CliParse<S>;
  try {
    parsed = parseCli(spec, argv);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    return usage(error);
  }
  if (parsed.help) {
    io.stdout(parsed.text);
    io.setExitCode(0);
    return;
  }
  try {
    await main(parsed.values, parsed.positionals);
  } catch (error) {
    // main may check what a spec cannot say (a list of sizes, two options together).
    if (error instanceof CliUsageError) return usage(error);
    const e = error as Error;
    io.stderr(`${process.env.GPT_DEBUG === '1' && e.stack ? e.stack : (e.message ?? String(error))}\n`);
    io.setExitCode(1);
  }
}
