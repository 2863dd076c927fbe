// One vitest project per package; workspace imports resolve to src/ through the
// private "@gpt/source" export condition, so tests never need a build.
// Plus the "tooling" project: publishing checks and the pack/install smoke test (test/).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = readdirSync(new URL('./packages', import.meta.url));

export default defineConfig({
  resolve: { conditions: ['@gpt/source'] },
  ssr: { resolve: { conditions: ['@gpt/source'], externalConditions: ['@gpt/source'] } },
  test: {
    // Builds @gpt/tensor's WASM kernels first when they are missing or stale (tests read them from build/).
    globalSetup: [fileURLToPath(new URL('./test/setup-wasm.ts', import.meta.url))],
    projects: [
      ...packages.map((name) => ({
        extends: true,
        test: {
          name,
          root: `packages/${name}`,
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
        },
      })),
      {
        extends: true,
        test: {
          name: 'tooling',
          root: '.',
          include: ['test/**/*.test.ts'],
          // Builds stale packages, packs and installs them: slow on a fresh 2-core machine.
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
