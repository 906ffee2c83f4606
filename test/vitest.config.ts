import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// One config, four projects. Integration tests get a throwaway database cloned from a
// migrated template (see test/helpers/db.ts); nothing here mocks PostgreSQL.
export default defineConfig({
  // Paths below are relative to the repository root, whatever directory this file sits in.
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    // Two files at a time. The tests mostly wait on processes, sockets and PostgreSQL, and Vitest's
    // default (cores − 1) ran them one by one on this 2-core machine: 706 s of vitest became 531 s.
    // Each file has its own database and ports (test/helpers/db.ts, scripts/lib/reserved-port.ts);
    // more workers are untested against PostgreSQL's default 100 connections.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'runner/src/**/*.test.ts',
            'history-api/src/**/*.test.ts',
            'scripts/**/*.test.ts',
            'admin/src/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts', 'test/fakes/**/*.test.ts', 'test/reliability/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'admin/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: { name: 'contract', include: ['test/contract/**/*.test.ts'], testTimeout: 60_000 },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 },
      },
      {
        extends: true,
        // The product as deployed: its commands (npm start, start:*) and services as real process trees.
        test: { name: 'deploy', include: ['test/deploy/**/*.test.ts'], testTimeout: 240_000, hookTimeout: 300_000 },
      },
    ],
  },
})
