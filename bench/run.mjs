// Runs one bench script (TypeScript) by compiling it with esbuild, since node 20 cannot run .ts itself.
// Usage: node bench/run.mjs <name> [args...]   e.g. node bench/run.mjs run-all --quick
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const [name = "run-all", ...args] = process.argv.slice(2);
const outdir = join(process.cwd(), "node_modules", ".cache", "imagewire-bench");
await build({
  entryPoints: [join(process.cwd(), "bench", `${name}.ts`)],
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
