import { configDefaults, defineConfig } from 'vitest/config';

/** The server suites that also run against cluster mode (a real redis-server; see test/helpers/cluster-mode.ts). */
const clusterSuites = ['test/server/resume.test.ts', 'test/server/get-response.test.ts', 'test/server/extensions.test.ts', 'test/server/engine-finals.test.ts', 'test/gateway/gateway.test.ts', 'test/server/token-scopes.test.ts'];

/**
 * One contract suite per store interface, each file running it against the in-memory store and
 * (when redis-server is installed) the Redis one: a project of its own, so neither backend's
 * project runs them twice.
 */
const contractSuites = ['test/contract/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'memory', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...contractSuites] } },
      { extends: true, test: { name: 'cluster', include: clusterSuites, env: { IMAGEWIRE_TEST_BACKEND: 'redis' } } },
      { extends: true, test: { name: 'contract', include: contractSuites } },
    ],
  },
});
