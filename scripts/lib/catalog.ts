// A comparable dump of a schema: tables, columns, types, defaults, constraints, indexes.
import type { Sql } from 'postgres'

export async function catalogDump(sql: Sql): Promise<string[]> {
  const columns = await sql<{ line: string }[]>`
    select format('column %s.%s %s %s default=%s', table_name, column_name, data_type,
                  case when is_nullable = 'YES' then 'null' else 'not null' end,
                  coalesce(column_default, '-')) as line
    from information_schema.columns where table_schema = 'public'`
  const constraints = await sql<{ line: string }[]>`
    select format('constraint %s.%s %s', rel.relname, con.conname, pg_get_constraintdef(con.oid)) as line
    from pg_constraint con join pg_class rel on rel.oid = con.conrelid
    join pg_namespace n on n.oid = rel.relnamespace where n.nspname = 'public'`
  const indexes = await sql<{ line: string }[]>`
    select format('index %s', indexdef) as line from pg_indexes where schemaname = 'public'`
  return [...columns, ...constraints, ...indexes].map((r) => r.line).sort()
}
