// Bundles the browser build of the client (dist/web/imagewire.browser.js) and the live page's
// script (dist/web/page.js, which imports the client build) with esbuild.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The page imports the client from the browser entry; in the bundle that is the sibling file. */
const clientAsSibling = {
  name: 'client-as-sibling',
  setup(build) {
    build.onResolve({ filter: /\/browser\.js$/ }, (args) => (args.importer.endsWith('page.ts') ? { path: './imagewire.browser.js', external: true } : undefined));
  },
};

/**
 * Writes imagewire.browser.js and page.js into `outdir`.
 * @param {{ outdir: string, minify?: boolean }} options
 * @returns {Promise<{ files: string[] }>}
 */
export async function bundleWeb({ outdir, minify = true }) {
  const { build } = await import('esbuild');
  const common = { bundle: true, platform: 'browser', format: 'esm', target: 'es2022', minify, sourcemap: false, logLevel: 'warning', absWorkingDir: root, legalComments: 'none' };
  await build({ ...common, entryPoints: ['src/browser.ts'], outfile: `${outdir}/imagewire.browser.js` });
  await build({ ...common, entryPoints: ['src/web/page.ts'], outfile: `${outdir}/page.js`, plugins: [clientAsSibling] });
  return { files: [`${outdir}/imagewire.browser.js`, `${outdir}/page.js`] };
}
