// The benchmarks' plain-text tables: one column per key, padded to the widest cell.
export function printTable(rows: Record<string, string | number>[], out: (line: string) => void) {
  const keys = Object.keys(rows[0] ?? {})
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k]).length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')
  out(line(keys))
  out(widths.map((w) => '─'.repeat(w)).join('  '))
  for (const r of rows) out(line(keys.map((k) => String(r[k]))))
}
