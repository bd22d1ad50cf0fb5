/**
 * The parameter reference as a Markdown table, generated from {@link PARAM_SPECS} and the defaults
 * (src/params/README.md holds its output; a test keeps the two equal).
 */
import { defaultParams } from './params.js';
import { PARAM_SPECS, type ParamSpec } from './paramSchema.js';

const esc = (t: string): string => t.replace(/\|/g, '\\|');

function rangeText(s: ParamSpec): string {
  if (s.kind === 'boolean') return 'true / false';
  const parts: string[] = [];
  if (s.min !== undefined) parts.push(`${s.minIncluded ? '≥' : '>'} ${s.min}`);
  if (s.max !== undefined) parts.push(`${s.maxIncluded ? '≤' : '<'} ${s.max}`);
  if (s.nonZero) parts.push('≠ 0');
  const r = parts.join(', ');
  return s.kind === 'integer' ? (r ? `integer ${r}` : 'integer') : r || 'any finite number';
}

/** One row per parameter: path (JSON key, camelCase or snake_case), default, rule, unit, source, meaning. */
export function parameterTable(): string {
  const d = defaultParams() as unknown as Record<string, Record<string, unknown>>;
  const lines = ['| parameter | default | rule | unit | source | meaning |', '| --- | --- | --- | --- | --- | --- |'];
  for (const s of PARAM_SPECS) {
    const [g, k] = s.path.split('.');
    const value = k === undefined ? (d as Record<string, unknown>)[g!] : d[g!]![k];
    lines.push(
      `| \`${s.path}\` | \`${JSON.stringify(value)}\` | ${rangeText(s)}${s.kind === 'perUnderlying' ? ' (each value; keys: underlyings and `other`)' : s.kind === 'numberList' ? ' (each value)' : ''} | ${esc(s.unit)} | ${esc(s.source)} | ${esc(s.doc)} |`,
    );
  }
  return lines.join('\n') + '\n';
}
