// The session store contract run against the in-memory store (on a fake clock) and, when
// redis-server is installed, a cluster node's store on the session log (real time: the log's keys
// expire in Redis).
import { randomUUID } from 'node:crypto';
import { describe } from 'vitest';
import { systemClock } from '../../src/internal/clock.js';
import { SessionLog } from '../../src/server/cluster/session-log.js';
import { defaultLimits } from '../../src/server/limits.js';
import { silentLogger } from '../../src/server/logger.js';
import { ClusterSessionStore } from '../../src/server/node/cluster-session-store.js';
import { listenOnNodeChannel } from '../../src/server/node/node-channel.js';
import { MemorySessionStore, type Session } from '../../src/server/ws/session-store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { describeSessionStoreContract } from './session-store.contract.js';
import { sleep, useRedis } from './redis-fixture.js';

describeSessionStoreContract(
  'in memory',
  async (bounds, resumeWindowMs) => {
    const clock = new FakeClock();
    const store = new MemorySessionStore({ limits: { ...defaultLimits, ...bounds }, logger: silentLogger, clock, resumeWindowMs });
    return { store, elapse: async (ms) => clock.advance(ms), now: () => clock.now(), settle: async () => undefined, attached: async () => undefined, close: async () => store.close() };
  },
  { shortWindowMs: 1_000 },
);

describe.runIf(redisAvailable())('on Redis', () => {
  const shared = useRedis('contract-sessions');
  describeSessionStoreContract(
    'Redis',
    async (bounds, resumeWindowMs) => {
      const limits = { ...defaultLimits, ...bounds };
      const log = new SessionLog({ redis: shared.redis, limits, keyPrefix: shared.prefix(), resumeWindowMs });
      const nodeId = randomUUID();
      const store = new ClusterSessionStore({ log, nodeId, limits, logger: silentLogger, clock: systemClock, written: () => undefined });
      // The node's channel, as a node listens on it: wake-ups, take-overs and drops.
      const subscriber = shared.subscriber();
      const unlisten = await listenOnNodeChannel(subscriber, log.keys.nodeChannel(nodeId), store, silentLogger);
      // Appends, attachments and pumps run in the background on one connection: a short wait lets them land.
      const close = async (): Promise<void> => {
        unlisten();
        store.close();
        subscriber.disconnect();
      };
      // An attachment counts once the log names this node for the session; a detachment once it names none.
      const attached = async (session: Session, yes: boolean): Promise<void> => {
        for (const deadline = Date.now() + 10_000; ; ) {
          const node = (await log.info(session.uuid))?.node;
          if ((node === nodeId) === yes) return;
          if (Date.now() > deadline) throw new Error(`session ${session.uuid} is still ${yes ? 'not ' : ''}attached`);
          await sleep(5);
        }
      };
      return { store, elapse: (ms) => sleep(ms), now: () => Date.now(), settle: () => sleep(40), attached, close };
    },
    { shortWindowMs: 300 },
  );
});
