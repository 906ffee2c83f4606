import { defineEnvVars } from '@sveltejs/kit/env'

// Read when the server starts (not inlined at build time), so one build serves any deployment.
export const variables = defineEnvVars({
  HISTORY_API_URL: {
    description: 'Base URL of the history API; the panel talks to it only from the server.',
    schema: (value) => {
      const url = value?.trim() || 'http://127.0.0.1:8787'
      if (!URL.canParse(url)) throw new Error(`HISTORY_API_URL must be an absolute URL (got ${url})`)
      return url.replace(/\/+$/, '')
    },
  },
})
