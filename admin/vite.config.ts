import adapter from '@sveltejs/adapter-node'
import { sveltekit } from '@sveltejs/kit/vite'
import { defineConfig } from 'vite'

// SvelteKit 3 reads its configuration from the plugin options (there is no svelte.config.js).
// The history API's address is read at run time from src/env.ts, never inlined at build time.
export default defineConfig({
  plugins: [sveltekit({ adapter: adapter() })],
  server: { host: '127.0.0.1', port: 5173 },
})
