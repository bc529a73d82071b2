// Records the exact frames the imagewire client and server exchange, so a raw `ws` baseline can
// send and answer byte-identical frames.
import WebSocket, { type RawData } from 'ws';
import type { WebSocketConstructor } from '../../src/client/socket/socket.js';
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
  /** With binaryResults on: the server's binary result frame, base64 (it crosses process IPC as JSON). */
  binaryResponse?: string;
  uuid: string;
}

/** Runs one task through a client whose socket records every frame, and returns them. */
export async function captureFrames(url: string, request: ImageInferenceRequest, options: Partial<ClientOptions> = {}): Promise<Captured> {
  const sent: string[] = [];
  const received: string[] = [];
  const receivedBinary: Buffer[] = [];
  class SpySocket extends WebSocket {
    constructor(address: string) {
      super(address, { perMessageDeflate: false });
      this.on('message', (data: RawData, isBinary: boolean) => {
        if (isBinary) receivedBinary.push(Buffer.from(data as Buffer));
        else received.push((data as Buffer).toString());
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
    const binary = receivedBinary.find((frame) => frame.includes(uuid));
    return {
      authRequest: find(sent, (f) => f.includes('"authentication"'), 'authentication'),
      authReply: find(received, (f) => f.includes('"authentication"'), 'authentication reply'),
      request: find(sent, (f) => f.includes(uuid) && f.includes('"imageInference"'), 'request'),
      response: binary === undefined ? find(received, (f) => f.includes(uuid) && f.includes('imageUUID'), 'response') : '',
      ...(binary === undefined ? {} : { binaryResponse: binary.toString('base64') }),
      uuid,
    };
  } finally {
    await client.close();
  }
}
