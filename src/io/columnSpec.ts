/**
 * The columns a table must or may have, and the check of a file's schema against them: each required
 * column present, each column's Arrow type one that converts without loss to what the engine holds
 * (integers → Float64 yes, Utf8 → Float64 no; any timestamp unit with time zone null or UTC; strings
 * plain or dictionary-encoded). Unknown extra columns are listed once as a warning.
 */
import { DataType, Type, type Field, type Schema } from 'apache-arrow';
import { fileError } from '../errors.js';

/**
 * What a column becomes: `float` a Float64Array (any integer or float type), `string` a string per row
 * (Utf8, LargeUtf8, Dictionary of either), `timestamp` ms since epoch UTC (Timestamp of any unit, time
 * zone null or UTC), `key` either a string or an integer (account keys).
 */
export type ColumnKind = 'float' | 'string' | 'timestamp' | 'key';

/** One column a table may hold. */
export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  required: boolean;
}

/** How a present column's values are stored in the file. */
export type StorageKind = 'float' | 'int' | 'int64' | 'uint64' | 'utf8' | 'dictionary' | 'timestamp';

/** A column found in the schema: its position and how to read it. */
export interface ResolvedColumn {
  name: string;
  index: number;
  type: DataType;
  storage: StorageKind;
  /** timestamps: multiply the stored integer by this to get ms */
  msPerUnit: number;
}

/** The result of checking a schema: the columns present (by name) and warnings. */
export interface ResolvedSchema {
  columns: Map<string, ResolvedColumn>;
  warnings: string[];
}

const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'Z', '+00:00', 'utc']);
const MS_PER_UNIT = [1000, 1, 1e-3, 1e-6]; // TimeUnit.SECOND, MILLISECOND, MICROSECOND, NANOSECOND

const EXPECTED: Record<ColumnKind, string> = {
  float: 'Float64 (or an integer type, or Float32)',
  string: 'Utf8 (or LargeUtf8, or Dictionary<Utf8>)',
  timestamp: 'Timestamp(ms, UTC) (any unit; time zone null or UTC)',
  key: 'Utf8 (or Dictionary<Utf8>) or Int64',
};

/**
 * Checks `schema` against `specs`.
 * @throws InputError naming the file and column when a required column is missing or a column's type
 *   does not convert without loss (found type and expected type), or a timestamp has another time zone.
 */
export function resolveSchema(file: string, schema: Schema, specs: readonly ColumnSpec[]): ResolvedSchema {
  const byName = new Map<string, { field: Field; index: number }>();
  schema.fields.forEach((field, index) => {
    if (!byName.has(field.name)) byName.set(field.name, { field, index });
  });
  const columns = new Map<string, ResolvedColumn>();
  for (const spec of specs) {
    const found = byName.get(spec.name);
    if (!found) {
      if (spec.required) {
        const have = schema.fields.map((f) => f.name).join(', ') || 'none';
        throw fileError(
          file,
          `required column ${spec.name} is missing (expected ${EXPECTED[spec.kind]}; columns found: ${have})`,
          spec.name,
        );
      }
      continue;
    }
    columns.set(spec.name, resolveColumn(file, spec, found.field.type, found.index));
  }
  const known = new Set(specs.map((s) => s.name));
  const extra = schema.fields.map((f) => f.name).filter((n) => !known.has(n));
  const warnings =
    extra.length > 0 ? [`${file}: unknown column${extra.length > 1 ? 's' : ''} ignored: ${extra.join(', ')}`] : [];
  return { columns, warnings };
}

function resolveColumn(file: string, spec: ColumnSpec, type: DataType, index: number): ResolvedColumn {
  const ok = (storage: StorageKind, msPerUnit = 1): ResolvedColumn => ({
    name: spec.name,
    index,
    type,
    storage,
    msPerUnit,
  });
  const wrong = (why = '') =>
    fileError(file, `column ${spec.name} has type ${String(type)}, expected ${EXPECTED[spec.kind]}${why}`, spec.name);
  const id = type.typeId;
  switch (spec.kind) {
    case 'float':
      if (id === Type.Float && (type as unknown as { precision: number }).precision >= 1) return ok('float');
      if (id === Type.Int)
        return ok(isInt64(type) ? ((type as unknown as { isSigned: boolean }).isSigned ? 'int64' : 'uint64') : 'int');
      throw wrong();
    case 'string':
      if (isStringType(type)) return ok('utf8');
      if (DataType.isDictionary(type) && isStringType(type.dictionary)) return ok('dictionary');
      throw wrong();
    case 'key':
      if (isStringType(type)) return ok('utf8');
      if (DataType.isDictionary(type) && isStringType(type.dictionary)) return ok('dictionary');
      if (id === Type.Int) {
        const t = type as unknown as { bitWidth: number; isSigned: boolean };
        if (t.bitWidth === 64 && !t.isSigned) throw wrong(' (UInt64 keys do not fit Int64)');
        return ok(isInt64(type) ? 'int64' : 'int');
      }
      throw wrong();
    case 'timestamp': {
      if (!DataType.isTimestamp(type)) throw wrong();
      const tz = type.timezone;
      if (tz !== null && tz !== undefined && tz !== '' && !UTC_NAMES.has(tz)) {
        throw fileError(
          file,
          `column ${spec.name} has time zone ${JSON.stringify(tz)}, expected null or UTC (timestamps are instants in UTC)`,
          spec.name,
          JSON.stringify(tz),
        );
      }
      return ok('timestamp', MS_PER_UNIT[type.unit]!);
    }
  }
}

function isStringType(t: DataType): boolean {
  return t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8;
}

function isInt64(t: DataType): boolean {
  return (t as unknown as { bitWidth: number }).bitWidth === 64;
}
