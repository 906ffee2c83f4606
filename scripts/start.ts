// npm start — placeholder until the demo (embedded PostgreSQL + stand-in stores + all three
// services) lands: say what is missing in one line instead of failing obscurely.
console.error(
  'npm start: the demo is not built yet (embedded PostgreSQL, demo stores, runner, history-api and admin). ' +
    'Run `npm test`, or `npm run migrate` with DATABASE_URL set.',
)
process.exit(1)
