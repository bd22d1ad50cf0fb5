/**
 * The parameter file: a versioned JSON object that overrides any subset of the defaults
 * (docs/methodology.md section 6; every parameter is documented in paramSchema.ts). Keys may be written as
 * in {@link Params} (`deribitPm.priceRange`) or in snake_case (`deribit_pm.price_range`); per-underlying
 * maps merge key by key into the defaults (`{"price_range": {"BTC": 0.2}}` keeps ETH and other).
 */
import { createHash } from 'node:crypto';
import { InputError, showValue, type Violation } from '../errors.js';
import { readJsonFile } from '../io/readJsonFile.js';
import { PARAMS_VERSION, defaultParams, type Params } from './params.js';
import { PARAM_SPECS, type ParamSpec } from './paramSchema.js';

const camel = (k: string): string => k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const UNDERLYING_KEY = /^(?:[A-Z0-9]{1,16}|other)$/;

/**
 * Loads parameters: the defaults, overridden by `file` when given.
 * @throws InputError naming the file, the parameter path (as written in the file: `p.json parameter
 *   var.alpha: …`) and the rule, for an
 *   unreadable file, invalid JSON, a missing or wrong `version`, an unknown key, a value of the wrong
 *   type or out of its range (every violation is listed).
 */
export function loadParams(file?: string): Params {
  if (file === undefined) return defaultParams();
  return paramsFromJson(readJsonFile(file), file);
}

/**
 * Validates a parsed parameter object and merges it into the defaults. `file` names the source in
 * messages. A per-underlying map may name underlyings that a given market lacks (`{"XRP": 0.2}` for a
 * BTC/ETH snapshot): one parameter file serves many snapshots, so such keys are kept, unused, not refused.
 * @throws InputError as {@link loadParams}; each violation's `file` is `<file> parameter <path>` (the path
 *   as written, e.g. `deribit_pm.price_range.BTC`), row and column null, so it renders as
 *   `p.json parameter deribit_pm.price_range.BTC: 0 is out of range: must be > 0 and < 1`.
 */
export function paramsFromJson(json: unknown, file = 'parameters'): Params {
  const out = defaultParams() as unknown as Record<string, Record<string, unknown>>;
  const bad: Violation[] = [];
  // a parameter file has no rows or columns: the parameter path goes with the file name, so a message
  // reads `p.json parameter var.alpha: 1 is out of range …` (not `column var.alpha`)
  const v = (path: string, value: unknown, rule: string) =>
    bad.push({
      file: `${file} parameter ${path}`,
      row: null,
      column: null,
      value: value === undefined ? null : showValue(value),
      rule,
    });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InputError({ file, row: null, column: null, value: null, rule: 'must be a JSON object of parameters' });
  }
  const root = json as Record<string, unknown>;
  if (!('version' in root))
    v('version', undefined, `is required (this engine reads parameter version ${PARAMS_VERSION})`);
  else if (root.version !== PARAMS_VERSION)
    v('version', root.version, `is not supported: this engine reads parameter version ${PARAMS_VERSION}`);
  const specs = new Map(PARAM_SPECS.map((s) => [s.path, s]));
  const seen = new Map<string, string>();
  for (const [rawGroup, groupVal] of Object.entries(root)) {
    if (rawGroup === 'version') continue;
    const group = camel(rawGroup);
    if (!(group in out) || typeof out[group] !== 'object') {
      v(
        rawGroup,
        undefined,
        `is not a parameter group (known: ${Object.keys(out)
          .filter((k) => k !== 'version')
          .join(', ')})`,
      );
      continue;
    }
    if (typeof groupVal !== 'object' || groupVal === null || Array.isArray(groupVal)) {
      v(rawGroup, groupVal as unknown, 'must be an object');
      continue;
    }
    for (const [rawKey, value] of Object.entries(groupVal as Record<string, unknown>)) {
      const key = camel(rawKey);
      const path = `${group}.${key}`;
      const where = `${rawGroup}.${rawKey}`;
      const spec = specs.get(path);
      if (!spec) {
        v(
          where,
          undefined,
          `is not a parameter (known in ${rawGroup}: ${PARAM_SPECS.filter((s) => s.path.startsWith(group + '.'))
            .map((s) => s.path.slice(group.length + 1))
            .join(', ')})`,
        );
        continue;
      }
      const before = seen.get(path);
      if (before !== undefined) {
        v(where, undefined, `is given twice (also as ${before})`);
        continue;
      }
      seen.set(path, where);
      const merged = checkValue(spec, where, value, out[group]![key], v);
      if (merged !== undefined) out[group]![key] = merged;
    }
  }
  if (bad.length === 0) {
    const p = out as unknown as Params;
    if (p.span.psrWindowDays <= p.span.psrHorizonDays)
      v('span.psrWindowDays', p.span.psrWindowDays, `must exceed span.psrHorizonDays (${p.span.psrHorizonDays})`);
  }
  if (bad.length > 0)
    throw new InputError(bad, `${file}: ${bad.length} invalid parameter${bad.length === 1 ? '' : 's'}`);
  return out as unknown as Params;
}

function rangeRule(s: ParamSpec): string | null {
  const parts: string[] = [];
  if (s.min !== undefined) parts.push(`${s.minIncluded ? '≥' : '>'} ${s.min}`);
  if (s.nonZero) parts.push('≠ 0');
  if (s.max !== undefined) parts.push(`${s.maxIncluded ? '≤' : '<'} ${s.max}`);
  return parts.length ? parts.join(' and ') : null;
}

function inRange(s: ParamSpec, x: number): boolean {
  if (!Number.isFinite(x)) return false;
  if (s.min !== undefined && (s.minIncluded ? x < s.min : x <= s.min)) return false;
  if (s.max !== undefined && (s.maxIncluded ? x > s.max : x >= s.max)) return false;
  if (s.nonZero && x === 0) return false;
  return true;
}

/** Checks one value against its spec; returns the value to store (maps merged), or undefined when bad. */
function checkValue(
  s: ParamSpec,
  where: string,
  value: unknown,
  current: unknown,
  v: (c: string, val: unknown, rule: string) => void,
): unknown {
  const rule = rangeRule(s);
  const number = (w: string, x: unknown, integer: boolean): boolean => {
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      v(w, x, `must be a finite number${integer ? ' (an integer)' : ''}`);
      return false;
    }
    if (integer && !Number.isSafeInteger(x)) {
      v(w, x, 'must be an integer');
      return false;
    }
    if (!inRange(s, x)) {
      v(w, x, `is out of range: must be ${rule}`);
      return false;
    }
    return true;
  };
  switch (s.kind) {
    case 'number':
      return number(where, value, false) ? value : undefined;
    case 'integer':
      return number(where, value, true) ? value : undefined;
    case 'boolean':
      if (typeof value !== 'boolean') {
        v(where, value, 'must be true or false');
        return undefined;
      }
      return value;
    case 'numberList': {
      if (!Array.isArray(value)) {
        v(where, value, 'must be a list of numbers');
        return undefined;
      }
      let ok = true;
      value.forEach((x, i) => {
        if (!number(`${where}[${i}]`, x, false)) ok = false;
      });
      return ok ? [...(value as number[])] : undefined;
    }
    case 'perUnderlying': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        v(where, value, 'must be an object of underlying → number (with "other" for any underlying not listed)');
        return undefined;
      }
      const merged = { ...(current as Record<string, number>) };
      let ok = true;
      for (const [u, x] of Object.entries(value as Record<string, unknown>)) {
        if (!UNDERLYING_KEY.test(u)) {
          v(`${where}.${u}`, undefined, 'is not an underlying name (upper-case letters and digits) or "other"');
          ok = false;
          continue;
        }
        if (!number(`${where}.${u}`, x, false)) {
          ok = false;
          continue;
        }
        merged[u] = x as number;
      }
      return ok ? merged : undefined;
    }
  }
}

/** Canonical JSON: object keys sorted at every level, no whitespace. */
export function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(',')}]`;
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(x);
}

/** sha256 (hex) of the canonical JSON of a parameter set: equal sets hash equal whatever their key order. */
export function paramsHash(p: Params): string {
  return createHash('sha256').update(canonicalJson(p)).digest('hex');
}
