// A cluster node as a process, through the built package's createServer({ redis, nodeId, engine }),
// for the multi-process tests while the built CLI has no `serve --redis`: prints the same one
// "imagewire listening on ws://…" line and stops gracefully on SIGTERM, as `imagewire serve` does.
// Usage: node cluster-node.mjs <redis URL> <node id> <engine|no-engine> <step delay ms> <public URL>
import { createServer } from '../../dist/server/index.js';

const [redis, nodeId, engine, stepDelay, publicUrl] = process.argv.slice(2);
if (redis === undefined || nodeId === undefined) throw new Error('usage: cluster-node.mjs <redis> <node id> <engine|no-engine> <step delay ms> <public URL>');
const server = await createServer({ redis, nodeId, port: 0, ...(publicUrl === undefined ? {} : { publicUrl }), ...(engine === 'no-engine' ? { engine: false } : { stepDelayMs: Number(stepDelay ?? 0) }) });
console.log(`imagewire listening on ${server.url}`);
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
