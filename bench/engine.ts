// Procedural engine throughput: 512x512 finals per second at 1 and 20 steps, called directly (no
// server), beside the cost of sharp encoding a blank 512x512 PNG (the floor of any PNG final).
import { createProceduralEngine, type EngineRequest } from '../src/engine/index.js';
import { loadSharp } from '../src/engine/sharp.js';
import { emitRows, quick, ratio, rounds, spread } from './lib/report.js';

const engine = createProceduralEngine({ stepDelayMs: 0 });

function request(steps: number, seed: number): EngineRequest {
  return {
    taskUUID: crypto.randomUUID(),
    model: 'runware:101@1',
    positivePrompt: 'a lighthouse on a cliff at dusk, oil painting',
    width: 512,
    height: 512,
    steps,
    CFGScale: 7,
    seed,
    numberResults: 1,
    strength: 0.8,
    outputFormat: 'PNG',
    outputQuality: 95,
  };
}

/** Images per second over `count` generations. */
async function generateRate(steps: number, count: number): Promise<number> {
  const signal = new AbortController().signal;
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    for await (const event of engine.generate(request(steps, i + 1), { signal })) void event;
  }
  return (count * 1000) / (performance.now() - start);
}

async function blankPngRate(count: number): Promise<number> {
  const sharp = await loadSharp();
  const pixels = Buffer.alloc(512 * 512 * 3, 255);
  const start = performance.now();
  for (let i = 0; i < count; i++) await sharp(pixels, { raw: { width: 512, height: 512, channels: 3 } }).png().toBuffer();
  return (count * 1000) / (performance.now() - start);
}

const count = quick ? 3 : 20;
// One untimed pass of each, so loading sharp and compiling is not measured.
await generateRate(1, 1);
await generateRate(20, 1);
await blankPngRate(1);
const r = await rounds(quick ? 1 : 3, {
  steps1: () => generateRate(1, count),
  steps20: () => generateRate(20, count),
  png: () => blankPngRate(count * 5),
});
const med = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? Number.NaN;
emitRows([
  {
    benchmark: 'engine 512x512, 1 step, images/s (vs sharp blank 512x512 PNG encodes/s)',
    imagewire: spread(r.steps1, 1),
    baseline: spread(r.png, 1),
    ratio: ratio(med(r.steps1) / med(r.png)),
    target: '',
  },
  {
    benchmark: 'engine 512x512, 20 steps, images/s (vs 1 step)',
    imagewire: spread(r.steps20, 1),
    baseline: spread(r.steps1, 1),
    ratio: ratio(med(r.steps20) / med(r.steps1)),
    target: '',
  },
]);
