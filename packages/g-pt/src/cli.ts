// @gpt/g-pt/cli: what every command-line program of the repository shares (the examples,
// the benchmarks, the `gpt` CLI): the declarative option parser and the line saying which
// device and kernels run. Its own entry so that a copied example imports a published
// module, and so that loading it does not load the G.pt pipeline.

export {
  CliUsageError,
  closestFlag,
  defineCli,
  flagOf,
  formatHelp,
  parseCli,
  runCli,
  type CliIo,
  type CliParse,
  type CliSpec,
  type CliValues,
  type OptionSpec,
  type OptionSpecs,
  type OptionType,
} from './cli/options.js';
export { describeRuntime } from './cli/runtime.js';
