// vitest globalSetup (vitest.config.ts): builds the WASM kernels of @gpt/tensor before any
// test runs when packages/tensor/build/ lacks them or they are older than assembly/*.
// Tests run the sources, which read the kernels from build/; without them the "cpu-wasm"
// conformance device has nothing to test, and every other test silently runs the
// TypeScript kernels. A failed build fails the run, naming the build.
import { ensureWasmBuilt } from '../packages/tensor/scripts/ensure-wasm.mjs';

export default function setup(): void {
  ensureWasmBuilt({ log: (line) => console.log(`[setup] ${line}`) });
}
