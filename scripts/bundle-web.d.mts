// Types of bundle-web.mjs, for the TypeScript tests that bundle the page into a temporary folder.
export declare function bundleWeb(options: { outdir: string; minify?: boolean }): Promise<{ files: string[] }>;
