/** Types of scripts/bundle.mjs for the test that checks its entries. */
export declare const BUNDLE_ENTRIES: Record<string, string>;
export declare const BUNDLE_DIR: string;
/** The CommonJS files of the bundle: name (→ NAME.cjs, NAME.cjs.cache) → tsc's module it is built from. */
export declare const COMMONJS_BUNDLES: Record<string, { source: string; bundles?: string }>;
/** Writes CODE's V8 code cache to CACHE_FILE (dist: the built dist/); warns, without a file, when it cannot. */
export declare function writeCodeCache(dist: string, code: string, cacheFile: string): Promise<void>;
