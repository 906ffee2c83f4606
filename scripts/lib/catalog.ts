// A comparable dump of a schema: tables, columns, types, defaults, constraints, indexes,
// views, functions and triggers.
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
  const views = await sql<{ line: string }[]>`
    select format('view %s %s', viewname, md5(definition)) as line from pg_views where schemaname = 'public'`
  const routines = await sql<{ line: string }[]>`
    select format('function %s(%s) %s', p.proname, pg_get_function_identity_arguments(p.oid), md5(p.prosrc)) as line
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'`
  const triggers = await sql<{ line: string }[]>`
    select format('trigger %s', pg_get_triggerdef(t.oid)) as line
    from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and not t.tgisinternal`
  return [...columns, ...constraints, ...indexes, ...views, ...routines, ...triggers].map((r) => r.line).sort()
}
