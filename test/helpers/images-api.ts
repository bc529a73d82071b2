// Helpers for tests of the OpenAI-style images API and the imagine endpoint: raw requests, PNG
// headers, data URIs, server-sent events read by hand, and an engine that records its requests.
import sharp from 'sharp';
import { createProceduralEngine, type Engine, type EngineRequest } from '../../src/engine/index.js';

/** One raw HTTP answer. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body as JSON (undefined when it is not JSON). */
  readonly json: unknown;
}

/** Sends a request and reads the whole answer. `body` objects are sent as JSON. */
export async function call(base: string, method: string, path: string, options: { key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  let body: BodyInit | undefined;
  if (typeof options.body === 'string' || options.body instanceof FormData) body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Width and height from a PNG's IHDR; throws when the bytes are not a PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((byte, i) => bytes[i] === byte)) throw new Error('not a PNG');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') throw new Error('PNG without IHDR first');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** The bytes and media type of a `data:<type>;base64,` URI. */
export function fromDataUri(uri: string): { mediaType: string; bytes: Buffer } {
  const match = /^data:([^;,]+);base64,([A-Za-z0-9+/]+=*)$/.exec(uri);
  if (match === null) throw new Error(`not a base64 data URI: ${uri.slice(0, 40)}`);
  return { mediaType: match[1] ?? '', bytes: Buffer.from(match[2] ?? '', 'base64') };
}

/** Raw RGB pixels of encoded image bytes. */
export async function pixels(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean absolute difference per channel value (0..255) of two same-sized images. */
export async function meanDifference(a: Uint8Array, b: Uint8Array): Promise<number> {
  const [pa, pb] = await Promise.all([pixels(a), pixels(b)]);
  if (pa.data.length !== pb.data.length) throw new Error('sizes differ');
  let sum = 0;
  for (let i = 0; i < pa.data.length; i++) sum += Math.abs((pa.data[i] ?? 0) - (pb.data[i] ?? 0));
  return sum / pa.data.length;
}

/** Mean RGB of encoded image bytes. */
export async function meanColour(bytes: Uint8Array): Promise<[number, number, number]> {
  const { data } = await pixels(bytes);
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i++) sum[i % 3] = (sum[i % 3] ?? 0) + (data[i] ?? 0);
  const n = data.length / 3;
  return [(sum[0] ?? 0) / n, (sum[1] ?? 0) / n, (sum[2] ?? 0) / n];
}

/** A solid-colour PNG. */
export function solidPng(size: number, colour: { r: number; g: number; b: number }): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: colour } }).png().toBuffer();
}

/** One server-sent event as written on the wire. */
export interface RawEvent {
  readonly event: string;
  readonly data: unknown;
}

/** Splits an event-stream body into its events (`event:` and one `data:` line each, as this server writes them). */
export function parseEventStream(text: string): RawEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines.find((line) => line.startsWith('data: '))?.slice(6) ?? '';
      return { event, data: JSON.parse(data) as unknown };
    });
}

/** The procedural engine (no delay), recording every request it is given. */
export function recordingEngine(): Engine & { readonly requests: EngineRequest[] } {
  const base = createProceduralEngine({ stepDelayMs: 0 });
  const requests: EngineRequest[] = [];
  return {
    name: base.name,
    requests,
    models: () => base.models(),
    hasModel: (model) => base.hasModel(model),
    generate: (request, options) => {
      requests.push(request);
      return base.generate(request, options);
    },
  };
}
