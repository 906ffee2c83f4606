import { fail, redirect } from '@sveltejs/kit'
import { API_CAIDA, describeProblem } from '#lib/problem.ts'
import { apiClient, attempt } from '#lib/server/api.ts'
import { clearSession, safeReturn, setSession } from '#lib/server/session.ts'
import type { Actions, PageServerLoad } from './$types'

export const load: PageServerLoad = ({ locals, url }) => {
  const volver = safeReturn(url.searchParams.get('volver'))
  const expirada = url.searchParams.get('motivo') === 'expirada'
  if (locals.token && !expirada) redirect(303, volver)
  return { volver, expirada }
}

export const actions = {
  entrar: async ({ request, cookies, url }) => {
    const form = await request.formData()
    const email = String(form.get('email') ?? '').trim()
    const password = String(form.get('password') ?? '')
    const volver = safeReturn(String(form.get('volver') ?? ''))
    if (!email || !password) {
      return fail(400, { email, volver, error: 'Escriba su correo y su contraseña.' })
    }
    const result = await attempt(apiClient(null).POST('/api/auth/login', { body: { email, password } }))
    // The API down is said on the form itself, which then offers to try again.
    if (!result) return fail(503, { email, volver, error: API_CAIDA, caida: true })
    const status = result.response.status
    if (result.data) {
      if (result.data.role !== 'super_admin') {
        return fail(403, { email, volver, error: `Se requiere rol super_admin (su usuario es ${result.data.role}).` })
      }
      setSession(cookies, url, result.data.token, result.data.expires_at)
      redirect(303, volver)
    }
    if (status === 401) return fail(401, { email, volver, error: 'Correo o contraseña incorrectos.' })
    if (status === 429) {
      const wait = result.response.headers.get('retry-after')
      return fail(429, {
        email,
        volver,
        error: `Demasiados intentos fallidos. Espere ${wait ?? 'unos'} segundos e intente de nuevo.`,
      })
    }
    return fail(status, { email, volver, error: describeProblem(result.error, status).message, caida: status >= 500 })
  },

  salir: async ({ cookies }) => {
    clearSession(cookies)
    redirect(303, '/login')
  },
} satisfies Actions
