/**
 * The `margin-engine` command as package.json's `bin` names it: the bundle of the command and its
 * workers (scripts/bundle.mjs, dist/bundle/main.js), which the tests that start the command as a process
 * run, so that they test what a user runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

/** The command's path relative to the project root, as package.json's `bin` gives it. */
export const COMMAND_PATH = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }
).bin['margin-engine']!;

/** The command's absolute path. */
export const COMMAND = join(ROOT, COMMAND_PATH);
