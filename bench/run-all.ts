// Runs every implemented benchmark and prints one table with the machine it ran on.
// Each row compares imagewire with its baseline measured in the same run.
import os from "node:os";
import { runBundle } from "./bundle.js";

const cpus = os.cpus();
console.log(`machine: ${cpus[0]?.model ?? "unknown CPU"} x${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}, ${os.platform()} ${os.arch()}`);

const rows: string[][] = [["benchmark", "imagewire", "baseline", "ratio"]];
const [ours, official] = await runBundle();
if (ours && official) {
  rows.push([
    "browser bundle, gzip (baseline: @runware/sdk-js)",
    `${(ours.gzipBytes / 1024).toFixed(2)} KiB`,
    `${(official.gzipBytes / 1024).toFixed(2)} KiB`,
    `${(ours.gzipBytes / official.gzipBytes).toFixed(2)}x`,
  ]);
  rows.push([
    "browser bundle, minified",
    `${(ours.minBytes / 1024).toFixed(1)} KiB`,
    `${(official.minBytes / 1024).toFixed(1)} KiB`,
    `${(ours.minBytes / official.minBytes).toFixed(2)}x`,
  ]);
}
const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
for (const r of rows) console.log(`| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`);
