// Preload for profiling under the bench's load (docs/performance.md, profiling item 10):
// BENCH_HOOKYARD_NODE_ARGS="--import ./bench/instrument/statement-time.mjs" npm run bench -- --only hookyard-sqlite --scenario steady
// Times every node:sqlite statement execution and exec on the main thread (process.hrtime around the
// native call) and, every two seconds, writes the statements by total time to
// /tmp/trace-statements-<pid>.txt: total ms, calls, µs per call, the statement's first 150
// characters; then how COMMIT's time divides by duration (the long ones carry a WAL checkpoint).
import { writeFileSync } from 'node:fs';

const sqlite = await import('node:sqlite');
const totals = new Map();
const commitBuckets = new Map();
const BUCKETS = [
  [100e3, '< 0.1 ms'],
  [300e3, '< 0.3 ms'],
  [1e6, '< 1 ms'],
  [3e6, '< 3 ms'],
  [Number.POSITIVE_INFINITY, '≥ 3 ms'],
];

function add(map, key, ns) {
  const entry = map.get(key) ?? { calls: 0, ns: 0 };
  entry.calls++;
  entry.ns += ns;
  map.set(key, entry);
}

function record(sql, ns) {
  add(totals, sql.replace(/\s+/g, ' ').slice(0, 150), ns);
  if (sql === 'EXEC COMMIT') add(commitBuckets, BUCKETS.find(([limit]) => ns < limit)[1], ns);
}

function timed(target, method, text) {
  const original = target[method];
  target[method] = function (...args) {
    const started = process.hrtime.bigint();
    try {
      return original.apply(this, args);
    } finally {
      record(text(this, args), Number(process.hrtime.bigint() - started));
    }
  };
}

for (const method of ['run', 'get', 'all', 'iterate'])
  timed(sqlite.StatementSync.prototype, method, (statement) => statement.sourceSQL);
timed(sqlite.DatabaseSync.prototype, 'exec', (_db, args) => `EXEC ${args[0]}`);

const line = (key, { calls, ns }) =>
  `${(ns / 1e6).toFixed(0).padStart(7)} ms ${String(calls).padStart(8)} ${(ns / calls / 1e3).toFixed(1).padStart(8)} µs  ${key}`;
const dump = () =>
  writeFileSync(
    `/tmp/trace-statements-${process.pid}.txt`,
    `${[
      ...[...totals].sort((a, b) => b[1].ns - a[1].ns).map(([key, entry]) => line(key, entry)),
      '',
      ...BUCKETS.map(([, name]) => [name, commitBuckets.get(name)])
        .filter(([, entry]) => entry)
        .map(([name, entry]) => line(`COMMIT ${name}`, entry)),
    ].join('\n')}\n`,
  );
setInterval(dump, 2000).unref();
