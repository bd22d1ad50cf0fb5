/** Types of scripts/bundle.mjs for the test that checks its entries. */
export declare const BUNDLE_ENTRIES: Record<string, string>;
export declare const BUNDLE_DIR: string;
export declare const COMMAND_CODE: string;
export declare const COMMAND_CODE_CACHE: string;
