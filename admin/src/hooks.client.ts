import type { HandleClientError } from '@sveltejs/kit/hooks'
import { spanishError } from '#lib/errors.ts'

// Client-side navigation errors (an unknown address followed from a link) in Spanish.
export const handleError: HandleClientError = (input) =>
  spanishError(input.kind, input.kind === 'unknown' ? 500 : input.error.status)
