/**
 * Reading a JSON input file (the parameter file, a stress-event file) with the project's input errors.
 */
import { readFileSync } from 'node:fs';
import { fileError } from '../errors.js';

/**
 * Reads `file` as UTF-8 and parses it as JSON; the caller validates the value.
 * @throws InputError naming the file when it cannot be read ("cannot be read (…)") or is not valid JSON
 *   ("is not valid JSON (…)", with the parser's message).
 */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw fileError(file, `cannot be read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw fileError(file, `is not valid JSON (${(e as Error).message})`);
  }
}
