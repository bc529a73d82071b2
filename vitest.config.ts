import { defineConfig } from 'vitest/config';

/** The server suites that also run against cluster mode (a real redis-server; see test/helpers/cluster-mode.ts). */
const clusterSuites = ['test/server/resume.test.ts', 'test/server/get-response.test.ts', 'test/server/extensions.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'memory', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'cluster', include: clusterSuites, env: { IMAGEWIRE_TEST_BACKEND: 'redis' } } },
    ],
  },
});
