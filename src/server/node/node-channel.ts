// This node's PUB/SUB channel (`iw:n:<nodeId>`): wake-ups, take-overs and drops of the sessions its
// sockets hold, and previews (`p <session> <frame JSON>`) from workers; after a reconnect, every
// attached session is read again, since wake-ups sent meanwhile were lost.
import type { Redis } from 'ioredis';
import { parseJson, isRecord, type ServerDataItem } from '../../protocol/index.js';
import { parseNodeMessage } from '../cluster/session-log.js';
import { errorMessage, type Logger } from '../logger.js';
import type { ServerFrame } from '../core/server-frame.js';
import type { ClusterSessionStore } from './cluster-session-store.js';

/** A preview message's frame: `{"data":[...]}`, the frame codec's head `{"k":"d","items":[...]}`, or one item. */
export function previewFrameOf(json: string): ServerFrame | undefined {
  const parsed = parseJson(json);
  if (!parsed.ok || !isRecord(parsed.value)) return undefined;
  const value = parsed.value;
  const items: unknown = Array.isArray(value.data) ? value.data : Array.isArray(value.items) ? value.items : [value];
  if (!Array.isArray(items) || !items.every((item) => isRecord(item) && typeof item.taskType === 'string')) return undefined;
  return { kind: 'data', items: items as ServerDataItem[] };
}

/** Subscribes `subscriber` to the node's channel and hands each message to the session store. */
export async function listenOnNodeChannel(subscriber: Redis, channel: string, sessions: ClusterSessionStore, logger: Logger): Promise<() => void> {
  const onMessage = (from: string, message: string): void => {
    if (from !== channel) return;
    try {
      if (message.startsWith('p ')) {
        const space = message.indexOf(' ', 2);
        const frame = space === -1 ? undefined : previewFrameOf(message.slice(space + 1));
        if (frame !== undefined) sessions.preview(message.slice(2, space), frame);
        return;
      }
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
  await subscriber.subscribe(channel);
  return () => {
    subscriber.off('message', onMessage);
    subscriber.off('ready', onReady);
  };
}
