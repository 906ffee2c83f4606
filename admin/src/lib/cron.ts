// A cron expression in words, for the schedules page; the expression itself is always shown beside it.
const dos = (n: string) => n.padStart(2, '0')

/** Spanish words for the common five-field shapes; null for anything else (the raw expression says it). */
export function describeCron(cron: string | null): string | null {
  if (!cron) return null
  const parts = cron.trim().split(/\s+/)
  if (parts.length !== 5) return null
  const [min, hora, dia, mes, semana] = parts as [string, string, string, string, string]
  if (dia !== '*' || mes !== '*' || semana !== '*') return null
  if (min === '*' && hora === '*') return 'Cada minuto'
  const cada = /^\*\/(\d+)$/.exec(min)
  if (cada && hora === '*') return cada[1] === '1' ? 'Cada minuto' : `Cada ${cada[1]} minutos`
  if (/^\d+$/.test(min) && hora === '*') return `Cada hora, en el minuto ${Number(min)}`
  if (/^\d+$/.test(min) && /^\d+$/.test(hora)) return `Todos los días a las ${dos(hora)}:${dos(min)}`
  return null
}
