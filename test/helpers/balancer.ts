// A round-robin TCP load balancer on loopback, as a cloud one without sticky sessions behaves: every
// new connection goes to the next backend that accepts it. Tests put it in front of several nodes.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** A running balancer. */
export interface Balancer extends AsyncDisposable {
  readonly port: number;
  /** `ws://127.0.0.1:PORT/v1`. */
  readonly url: string;
  /** Replaces the backends' ports (a restarted node may listen on a new one). */
  setBackends(ports: readonly number[]): void;
  /** Which backend each accepted connection went to, in order. */
  readonly routed: readonly number[];
  /** Destroys every proxied connection, as a network drop would. */
  dropAll(): void;
  close(): Promise<void>;
}

/**
 * Bytes a client connection buffers before the balancer stops reading its node. Node's default
 * (16 KiB) made a 1 MiB frame stop and wait for 'drain' some 16 times on its way through; a proxy
 * such as nginx relays it in far fewer steps.
 */
const RELAY_BUFFER_BYTES = 4 << 20;

/** Starts a balancer over `ports`; a backend that refuses is skipped for the next one. */
export async function startBalancer(ports: readonly number[]): Promise<Balancer> {
  let backends = [...ports];
  let next = 0;
  const routed: number[] = [];
  const pairs = new Set<Socket>();
  const server: Server = createServer({ highWaterMark: RELAY_BUFFER_BYTES }, (client) => {
    client.pause();
    // As nginx and cloud balancers do for WebSockets: without it Nagle's algorithm holds a small
    // frame written right after another until the peer's delayed ACK (40 ms on Linux).
    client.setNoDelay(true);
    pairs.add(client);
    client.once('close', () => pairs.delete(client));
    client.on('error', () => client.destroy());
    connect(client, backends.length);
  });
  const connect = (client: Socket, triesLeft: number): void => {
    if (triesLeft === 0 || backends.length === 0) {
      client.destroy();
      return;
    }
    const port = backends[next++ % backends.length] as number;
    const upstream = createConnection({ host: '127.0.0.1', port, noDelay: true });
    let connected = false;
    upstream.on('error', () => {
      if (connected) client.destroy();
      else connect(client, triesLeft - 1);
    });
    upstream.once('connect', () => {
      connected = true;
      routed.push(port);
      pairs.add(upstream);
      upstream.once('close', () => {
        pairs.delete(upstream);
        client.destroy();
      });
      client.once('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('balancer has no port');
  const close = async (): Promise<void> => {
    for (const socket of pairs) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port: address.port,
    url: `ws://127.0.0.1:${address.port}/v1`,
    setBackends: (ports) => {
      backends = [...ports];
    },
    routed,
    dropAll: () => {
      for (const socket of pairs) socket.destroy();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
