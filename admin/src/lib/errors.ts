// The Spanish message of an error the panel did not word itself: SvelteKit's own (404 for an
// unknown address, 405…) and unexpected exceptions. Errors thrown with error() keep theirs.
const porEstado: Record<number, string> = {
  400: 'La solicitud no es válida.',
  404: 'La página que busca no existe. Revise la dirección o vuelva al historial.',
  405: 'Esa acción no está permitida en esta página.',
  413: 'La solicitud es demasiado grande.',
}

export const INESPERADO = 'Error inesperado del panel. Intente de nuevo; si persiste, avise al equipo técnico.'

export function spanishError(kind: string, status: number): { message: string } | undefined {
  if (kind === 'app') return undefined
  if (kind === 'framework')
    return { message: porEstado[status] ?? (status >= 500 ? INESPERADO : 'Error de la solicitud.') }
  return { message: INESPERADO }
}
