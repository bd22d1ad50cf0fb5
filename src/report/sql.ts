/** SQL text builders for the report: literals and identifiers, quoted so any string is safe. */

/** A SQL string literal (`'it''s'`), or NULL. */
export function sqlString(s: string | null): string {
  return s === null ? 'NULL' : `'${s.replace(/'/g, "''")}'`;
}

/** A SQL identifier (`"my ""table"""`). */
export function sqlIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}
