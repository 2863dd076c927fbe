#!/usr/bin/env node
// The `gpt` executable (package.json "bin"): runs the command named on the command line.
import { runGpt } from './gpt.js';

runGpt().catch((error: unknown) => {
  process.stderr.write(`gpt: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
