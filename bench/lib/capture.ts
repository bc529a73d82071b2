// Records the exact frames the imagewire client and server exchange, so a raw `ws` baseline can
// send and answer byte-identical frames.
import WebSocket, { type RawData } from 'ws';
import type { WebSocketConstructor } from '../../src/client/socket.js';
import { createClient, type ClientOptions, type ImageInferenceRequest } from '../../src/index.js';

export interface Captured {
  /** The authentication frame the client sent. */
  authRequest: string;
  /** The server's authentication reply. */
  authReply: string;
  /** The imageInference frame the client sent; contains `uuid` once. */
  request: string;
  /** The server's text frame carrying the result; contains `uuid` where the taskUUID goes. */
  response: string;
  uuid: string;
}

/** Runs one task through a client whose socket records every frame, and returns them. */
export async function captureFrames(url: string, request: ImageInferenceRequest, options: Partial<ClientOptions> = {}): Promise<Captured> {
  const sent: string[] = [];
  const received: string[] = [];
  class SpySocket extends WebSocket {
    constructor(address: string) {
      super(address, { perMessageDeflate: false });
      this.on('message', (data: RawData, isBinary: boolean) => {
        if (!isBinary) received.push((data as Buffer).toString());
      });
    }
    override send(data: unknown, ...rest: unknown[]): void {
      if (typeof data === 'string') sent.push(data);
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  const client = createClient({ apiKey: 'bench', url, ...options, WebSocket: SpySocket as unknown as WebSocketConstructor });
  try {
    const [image] = await client.imageInference(request).result();
    const uuid = image?.taskUUID ?? '';
    const find = (frames: string[], what: (f: string) => boolean, name: string): string => {
      const frame = frames.find(what);
      if (frame === undefined) throw new Error(`capture: no ${name} frame`);
      return frame;
    };
    return {
      authRequest: find(sent, (f) => f.includes('"authentication"'), 'authentication'),
      authReply: find(received, (f) => f.includes('"authentication"'), 'authentication reply'),
      request: find(sent, (f) => f.includes(uuid) && f.includes('"imageInference"'), 'request'),
      response: find(received, (f) => f.includes(uuid) && f.includes('imageUUID'), 'response'),
      uuid,
    };
  } finally {
    await client.close();
  }
}
