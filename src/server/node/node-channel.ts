// This node's PUB/SUB channel (`iw:n:<nodeId>`): wake-ups, take-overs and drops of the sessions its
// sockets hold, and previews (`p <session> <frame JSON>`) from workers; after a reconnect, every
// attached session is read again, since wake-ups sent meanwhile were lost.
import type { Redis } from 'ioredis';
import { guarded } from '../cluster/errors.js';
import { parseNodeMessage } from '../cluster/session-log.js';
import { errorMessage, type Logger } from '../logger.js';
import type { ClusterSessionStore } from './cluster-session-store.js';

/** Subscribes `subscriber` to the node's channel and hands each message to the session store. */
export async function listenOnNodeChannel(subscriber: Redis, channel: string, sessions: ClusterSessionStore, logger: Logger): Promise<() => void> {
  const onMessage = (from: string, message: string): void => {
    if (from !== channel) return;
    try {
      const parsed = parseNodeMessage(message);
      if (parsed !== undefined) sessions.onMessage(parsed);
    } catch (error) {
      logger.error('node channel message failed', { error: errorMessage(error) });
    }
  };
  let connected = false;
  const onReady = (): void => {
    // The first ready is the first connect; every later one is a reconnect after lost messages.
    if (connected) sessions.pumpAll();
    connected = true;
  };
  subscriber.on('message', onMessage);
  subscriber.on('ready', onReady);
  await guarded('node channel subscribe', () => subscriber.subscribe(channel));
  return () => {
    subscriber.off('message', onMessage);
    subscriber.off('ready', onReady);
  };
}
