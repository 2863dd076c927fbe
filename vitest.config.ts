// One vitest project per package; workspace imports resolve to src/ through the
// private "@gpt/source" export condition, so tests never need a build.
import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const packages = readdirSync(new URL('./packages', import.meta.url));

export default defineConfig({
  resolve: { conditions: ['@gpt/source'] },
  ssr: { resolve: { conditions: ['@gpt/source'], externalConditions: ['@gpt/source'] } },
  test: {
    projects: packages.map((name) => ({
      extends: true,
      test: {
        name,
        root: `packages/${name}`,
        include: ['test/**/*.test.ts'],
        testTimeout: 60_000,
      },
    })),
  },
});
