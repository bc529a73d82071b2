// Shared helpers of the engine tests: requests with defaults, event collection and pixel statistics.
import sharp from 'sharp';
import type { Engine, EngineEvent, EngineRequest } from '../../src/engine/index.js';
import { createProceduralEngine } from '../../src/engine/index.js';

/** A final with its bytes: the procedural engine never answers with a URL. */
export type FinalEvent = Extract<EngineEvent, { kind: 'final' }> & { image: Uint8Array };
export type PreviewEvent = Extract<EngineEvent, { kind: 'preview' }>;

/** An engine without step delays, so tests run at full speed. */
export const engine: Engine = createProceduralEngine({ stepDelayMs: 0 });

/** A small text-to-image request; overrides win. */
export function request(overrides: Partial<EngineRequest> = {}): EngineRequest {
  return {
    taskUUID: '7b1b2c1e-4c1f-4d6a-9a57-2d1c4d0a8f11',
    model: 'imagewire:1@1',
    positivePrompt: 'a quiet village by the sea',
    width: 128,
    height: 128,
    steps: 8,
    CFGScale: 7,
    seed: 1234,
    numberResults: 1,
    strength: 0.8,
    outputFormat: 'PNG',
    outputQuality: 90,
    ...overrides,
  };
}

/** Every event of a generation. */
export async function collect(req: EngineRequest, signal: AbortSignal = new AbortController().signal, using: Engine = engine): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  for await (const event of using.generate(req, { signal })) events.push(event);
  return events;
}

/** The finals of a generation. */
export async function finals(req: EngineRequest): Promise<FinalEvent[]> {
  return (await collect(req)).filter((event): event is FinalEvent => event.kind === 'final' && event.image instanceof Uint8Array);
}

/** The only final of a one-result generation. */
export async function final(req: EngineRequest): Promise<FinalEvent> {
  const [first, ...rest] = await finals(req);
  if (first === undefined || rest.length > 0) throw new Error('expected exactly one final');
  return first;
}

/** Decoded RGB pixels of encoded bytes. */
export interface Pixels {
  width: number;
  height: number;
  format: string | undefined;
  data: Uint8Array;
}

/** Decodes with sharp to 3-channel 8-bit RGB. */
export async function decode(bytes: Uint8Array): Promise<Pixels> {
  const { format } = await sharp(bytes).metadata();
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, format, data: new Uint8Array(data) };
}

/** Decoded pixels of the only final of a generation. */
export async function render(req: EngineRequest): Promise<Pixels> {
  return decode((await final(req)).image);
}

/** Mean R, G, B. */
export function meanColour(data: Uint8Array): [number, number, number] {
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i++) sum[i % 3] = (sum[i % 3] ?? 0) + (data[i] ?? 0);
  const n = data.length / 3;
  return [(sum[0] ?? 0) / n, (sum[1] ?? 0) / n, (sum[2] ?? 0) / n];
}

/** Mean HSV saturation (max − min) / max, 0..1. */
export function meanSaturation(data: Uint8Array): number {
  let total = 0;
  for (let i = 0; i < data.length; i += 3) {
    const r = data[i] ?? 0;
    const g = data[i + 1] ?? 0;
    const b = data[i + 2] ?? 0;
    const max = Math.max(r, g, b);
    total += max === 0 ? 0 : (max - Math.min(r, g, b)) / max;
  }
  return total / (data.length / 3);
}

/** Mean absolute difference per channel value. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`size mismatch ${a.length} vs ${b.length}`);
  let total = 0;
  for (let i = 0; i < a.length; i++) total += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return total / a.length;
}

/** Mean absolute difference between horizontally neighbouring pixels: how much fine detail there is. */
export function detailEnergy(pixels: Pixels): number {
  let total = 0;
  let count = 0;
  for (let y = 0; y < pixels.height; y++) {
    for (let x = 1; x < pixels.width; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * pixels.width + x) * 3 + c;
        total += Math.abs((pixels.data[i] ?? 0) - (pixels.data[i - 3] ?? 0));
        count++;
      }
    }
  }
  return total / count;
}

/** A PNG with a smooth two-way gradient, a recognisable seed image. */
export async function gradientPng(width: number, height: number): Promise<Uint8Array> {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = Math.round((x / (width - 1)) * 255);
      data[i + 1] = Math.round((y / (height - 1)) * 255);
      data[i + 2] = 90;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** A black PNG mask with a white rectangle at [x0, x1) × [y0, y1). */
export async function rectMaskPng(width: number, height: number, x0: number, y0: number, x1: number, y1: number): Promise<Uint8Array> {
  const data = new Uint8Array(width * height);
  for (let y = y0; y < y1; y++) data.fill(255, y * width + x0, y * width + x1);
  return sharp(data, { raw: { width, height, channels: 1 } }).png().toBuffer();
}
