// One palette for every chart, matching the status badges.
export const colores = {
  exito: '#2f9e6a',
  parcial: '#e0a100',
  fallido: '#d64545',
  extract: '#3b82f6',
  transform: '#a855f7',
  load: '#f97316',
  barra: '#5b7fd6',
} as const
