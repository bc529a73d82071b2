// Runs one bench script (TypeScript) by compiling it with esbuild, since node 20 cannot run .ts itself.
// Usage: node bench/run.mjs <name> [args...]   e.g. node bench/run.mjs run-all --quick
// Every top-level bench/*.ts is compiled, so run-all can start each benchmark in its own process.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const [name = "run-all", ...args] = process.argv.slice(2);
const outdir = join(process.cwd(), "node_modules", ".cache", "imagewire-bench");
const entries = readdirSync(join(process.cwd(), "bench"))
  .filter((file) => file.endsWith(".ts"))
  .map((file) => join(process.cwd(), "bench", file));
await build({
  entryPoints: entries,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  outdir,
  logLevel: "warning",
});
const child = spawnSync(process.execPath, ["--expose-gc", join(outdir, `${name}.js`), ...args], { stdio: "inherit" });
process.exitCode = child.status ?? 1;
