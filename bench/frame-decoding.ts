// What bounded decoding costs: decodeClientFrame (a linear scan of depth, value count and unsafe
// integers, then JSON.parse) beside what decoding was before (UTF-8 decode and JSON.parse) on the
// same bytes, as a socket delivers them: typical frames, a frame with a 3 MiB base64 seedImage,
// large seeds (read again exactly), and hostile frames the scan refuses before JSON.parse runs.
import { decodeClientFrame, newTaskUUID } from '../src/protocol/index.js';
import { emitRows, quick, ratio, rounds, spread, type Row } from './lib/report.js';

function task(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    taskType: 'imageInference',
    taskUUID: newTaskUUID(),
    positivePrompt: 'a lighthouse on a cliff at dusk, oil painting',
    model: 'runware:101@1',
    width: 512,
    height: 512,
    steps: 20,
    seed: 42,
    outputType: 'base64Data',
    ...extra,
  };
}

const typical = JSON.stringify([task()]);
const full = JSON.stringify(Array.from({ length: 256 }, () => task({ lora: Array.from({ length: 20 }, (_, i) => ({ model: `civitai:${i}@1`, weight: 0.5 })) })));
const seedImage = JSON.stringify([task({ seedImage: 'A'.repeat(3 * 1024 * 1024) })]);
const bigSeed = typical.replace('"seed":42', '"seed":9223372036854775806');
const bigSeedImage = seedImage.replace('"seed":42', '"seed":9223372036854775806');
const MiB8 = 8 * 1024 * 1024;
const deep = `${'['.repeat(MiB8 / 2)}${']'.repeat(MiB8 / 2)}`;
const flat = `[${'1,'.repeat(MiB8 / 2 - 2)}1]`;
const keys = `[{"taskType":"ping",${Array.from({ length: 300_000 }, (_, i) => `"k${i}":1`).join(',')}}]`;

/** Median microseconds of one call of `run` over `count` calls. */
function timeUs(run: () => unknown, count: number): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) run();
  return ((performance.now() - start) * 1000) / count;
}

const cases: { name: string; text: string; count: number }[] = [
  { name: 'typical frame (1 task, 260 B)', text: typical, count: quick ? 2_000 : 20_000 },
  { name: '256 tasks with 20 lora each (~28k values)', text: full, count: quick ? 5 : 40 },
  { name: 'one task with a 3 MiB base64 seedImage', text: seedImage, count: quick ? 5 : 40 },
  { name: 'typical frame with seed 9223372036854775806 (exact re-read)', text: bigSeed, count: quick ? 2_000 : 20_000 },
  { name: '3 MiB seedImage frame with seed 9223372036854775806', text: bigSeedImage, count: quick ? 3 : 20 },
  { name: 'hostile: 8 MiB of nesting (refused: frameTooComplex)', text: deep, count: 1 },
  { name: 'hostile: 4M numbers in 8 MiB (refused: frameTooComplex)', text: flat, count: 1 },
  { name: 'hostile: 300,000 unknown keys, 3.5 MB (refused: frameTooComplex)', text: keys, count: 1 },
];

const utf8 = new TextDecoder();
const rows: Row[] = [];
for (const { name, text, count } of cases) {
  const bytes = Buffer.from(text);
  // One untimed pass of each, so compiling is not measured.
  decodeClientFrame(bytes);
  JSON.parse(utf8.decode(bytes));
  const r = await rounds(quick ? 1 : 5, {
    decode: () => Promise.resolve(timeUs(() => decodeClientFrame(bytes), count)),
    parse: () => Promise.resolve(timeUs(() => JSON.parse(utf8.decode(bytes)), count)),
  });
  const med = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? Number.NaN;
  rows.push({ benchmark: `${name}, µs per decode (vs UTF-8 decode + JSON.parse)`, imagewire: spread(r.decode, 1), baseline: spread(r.parse, 1), ratio: ratio(med(r.decode) / med(r.parse)), target: '' });
}
emitRows(rows);
