// Runs the os-target probe on a file and prints the result as one JSON line.
// Spawned by cgroup.test.ts from inside a memory cgroup (plain JS over dist/,
// so the whole node process, from its first allocation, is charged there).
const { probe } = require('../../dist/src/tools/probe');

const [file, max] = process.argv.slice(2);
probe({ target: 'os', file, max }).then(
  (result) => process.stdout.write(JSON.stringify(result) + '\n'),
  (err) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
