// The esbuild options of a production browser bundle, as an app's bundler would make it: the
// bundle tests measure and inspect what such a build ships.
import type { BuildOptions } from 'esbuild';

export const browserBuild = {
  bundle: true,
  write: false,
  platform: 'browser',
  format: 'esm',
  minify: true,
  metafile: true,
  logLevel: 'silent',
} as const satisfies BuildOptions;
