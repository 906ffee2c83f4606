// The Node flags the history API process runs with: `npm run start:api` and `npm run bench:api`
// (package.json, checked by node-flags.test.ts), `npm start` and the benchmarks' API processes.
//
// V8's young generation capped at 4 MB per semi-space. The API's reads allocate many short-lived
// rows and strings; with the default size (16 MB semi-spaces on this machine) about 30 % of what a
// scavenge finds is still reachable, so each one copies 10–18 MB and stops the process for 8–18 ms —
// measured with --trace-gc-nvp over a loop of 200-store detail reads — which is the p99 of every read.
// At 4 MB the pauses are shorter (3–4 ms) and more frequent, at the same throughput. bench:api at 1M
// executions, in-process, the two sizes one after the other: p99 of the 200-store detail 9.2–12.1 ms
// against 16.8–16.9, stats dias=90 p95 17.6–23.2 against 23.4–25.1, no read slower at p50.
export const API_NODE_FLAGS = ['--max-semi-space-size=4']
