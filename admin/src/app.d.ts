// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {
    interface Locals {
      /** The user's history-API token, from the httpOnly session cookie; null when logged out. */
      token: string | null
    }
    interface PageState {
      /** Set while the detail modal of an execution is open over the list (shallow routing). */
      ejecucion?: number
    }
  }
}

export {}
