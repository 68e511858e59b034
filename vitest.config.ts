import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        // CDK synth with bundling is slow on a 2-core machine; one file at a time keeps it predictable.
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        // Real local servers (DynamoDB Local, S3, SES v2): files run one after another so two
        // JVMs never compete for the machine's two cores.
        test: {
          name: 'local',
          include: ['test/local/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
