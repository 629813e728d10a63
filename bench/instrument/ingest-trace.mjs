// Preload for profiling under the bench's load (docs/performance.md, profiling item 7):
// BENCH_HOOKYARD_NODE_ARGS="--import ./bench/instrument/ingest-trace.mjs" npm run bench -- --only hookyard-sqlite --scenario latency
// Subscribes to Hookyard's WAL-fsync and commit-batch channels and samples event-loop delay; every two
// seconds writes their percentiles (ms) to /tmp/trace-ingest-<pid>.txt.
import { channel } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const fsync = [],
  ingest = [],
  completion = [],
  sizes = [];
channel('hookyard:wal.fsync').subscribe((m) => fsync.push(m.durationMs));
channel('hookyard:commit.batch').subscribe((m) => {
  (m.kind === 'ingest' ? ingest : completion).push(m.durationMs);
  if (m.kind === 'ingest') sizes.push(m.size);
});
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))].toFixed(2) : '-';
};
const dump = () =>
  writeFileSync(
    `/tmp/trace-ingest-${process.pid}.txt`,
    `${[
      `fsync n=${fsync.length} p50=${pct(fsync, 0.5)} p90=${pct(fsync, 0.9)} p99=${pct(fsync, 0.99)} max=${pct(fsync, 1)}`,
      `ingest commit n=${ingest.length} p50=${pct(ingest, 0.5)} p99=${pct(ingest, 0.99)} size p50=${pct(sizes, 0.5)}`,
      `completion commit n=${completion.length} p50=${pct(completion, 0.5)} p99=${pct(completion, 0.99)}`,
      `loop delay ms p50=${(loop.percentile(50) / 1e6).toFixed(2)} p99=${(loop.percentile(99) / 1e6).toFixed(2)} max=${(loop.max / 1e6).toFixed(2)}`,
    ].join('\n')}\n`,
  );
setInterval(dump, 2000).unref();
