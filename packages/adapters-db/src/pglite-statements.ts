import { PGliteKnexDialect } from 'mikro-orm-pglite';

/**
 * Whether `sql` holds more than one statement: a `;` outside string literals (with `E''`
 * escapes), quoted identifiers, dollar-quoted bodies and comments, followed by more SQL.
 */
export function hasMultipleStatements(sql: string): boolean {
  let statements = 0;
  let pending = false;
  for (let i = 0; i < sql.length; i += 1) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1] ?? '') && !/[A-Za-z0-9_]/.test(sql[i - 2] ?? '');
      for (i += 1; i < sql.length; i += 1) {
        if (escapes && sql[i] === '\\') i += 1;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 1;
        else if (sql[i] === "'") break;
      }
      pending = true;
    } else if (c === '"') {
      for (i += 1; i < sql.length; i += 1) {
        if (sql[i] === '"' && sql[i + 1] === '"') i += 1;
        else if (sql[i] === '"') break;
      }
      pending = true;
    } else if (c === '-' && next === '-') {
      while (i < sql.length && sql[i] !== '\n') i += 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      for (i += 2; i < sql.length && depth > 0; i += 1) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth += 1;
          i += 1;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth -= 1;
          i += 1;
        }
      }
      i -= 1;
    } else if (c === '$' && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))?.[0];
      if (tag === undefined) {
        pending = true;
        continue;
      }
      const end = sql.indexOf(tag, i + tag.length);
      i = end < 0 ? sql.length : end + tag.length - 1;
      pending = true;
    } else if (c === ';') {
      if (pending) statements += 1;
      pending = false;
    } else if (!/\s/.test(c)) {
      pending = true;
    }
  }
  if (pending) statements += 1;
  return statements > 1;
}

interface PGliteConnectionLike {
  exec(sql: string): Promise<unknown>;
  query(sql: string, params: unknown[]): Promise<unknown>;
}
interface QueryObject {
  sql?: string;
  bindings?: unknown[];
  method?: string;
  response?: unknown;
}

let patched = false;

/**
 * The PGlite dialect decides between `exec` (several statements, no affected-row count) and
 * `query` by looking for any `;` in the SQL. MikroORM inlines values into its SQL, so a value
 * such as a build log line `a; b` sent single updates through `exec`; the update then reported
 * no affected row and optimistic locking failed it. This keeps the dialect's behaviour but
 * counts statements properly.
 */
export function patchPGliteStatementSplitting(): void {
  if (patched) return;
  patched = true;
  const prototype = PGliteKnexDialect.prototype as unknown as {
    _query(connection: PGliteConnectionLike, obj: QueryObject): Promise<QueryObject>;
  };
  prototype._query = async (connection, obj) => {
    if (!obj.sql) throw new Error('The query is empty');
    obj.response =
      obj.method === 'raw' && hasMultipleStatements(obj.sql)
        ? await connection.exec(obj.sql)
        : await connection.query(obj.sql, obj.bindings ?? []);
    return obj;
  };
}
