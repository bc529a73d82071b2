// Renders images for a prompt with the built-in procedural engine and writes them to ./imagewire-out.
// Usage: npm run render -- "a prompt" [count]
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createProceduralEngine } from '../dist/engine/index.js';
import { newTaskUUID, validateTask, normalizeImageInference } from '../dist/protocol/index.js';

const [prompt = 'a lighthouse at dusk, teal and orange', countText = '2'] = process.argv.slice(2);
const task = {
  taskType: 'imageInference',
  taskUUID: newTaskUUID(),
  positivePrompt: prompt,
  model: 'imagewire:1@1',
  width: 512,
  height: 512,
  numberResults: Number(countText),
  outputFormat: 'PNG',
  seed: 1 + Math.floor(Math.random() * 1_000_000),
};
const checked = validateTask(task);
if (!checked.ok) {
  for (const error of checked.errors) console.error(`${error.code}: ${error.message}`);
  process.exit(2);
}
const request = normalizeImageInference(checked.task);
const engine = createProceduralEngine({ stepDelayMs: 0 });
const out = resolve('imagewire-out');
await mkdir(out, { recursive: true });
for await (const event of engine.generate({ ...request, seed: task.seed }, { signal: new AbortController().signal })) {
  if (event.kind !== 'final') continue;
  const path = join(out, `${task.taskUUID.slice(0, 8)}-${event.index}-seed${event.seed}.png`);
  await writeFile(path, event.image);
  console.log(path);
}
