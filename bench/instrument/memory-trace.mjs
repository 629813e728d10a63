// Preload for profiling under the bench's load (docs/performance.md, profiling item 6):
// BENCH_HOOKYARD_NODE_ARGS="--import ./bench/instrument/memory-trace.mjs" npm run bench -- --million --only hookyard-sqlite
// Once a second, appends the process's RSS (anonymous and file-backed), V8 heap total and external
// memory, and each V8 heap space's physical size, in MB, as a JSON line to /tmp/memtrace-<pid>.log.

import { appendFileSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';

const out = `/tmp/memtrace-${process.pid}.log`;
setInterval(() => {
  const m = process.memoryUsage();
  const st = readFileSync('/proc/self/status', 'utf8');
  const f = (k) => Math.round(Number(st.match(new RegExp(`${k}:\\s+(\\d+)`))[1]) / 1000);
  const sp = Object.fromEntries(
    v8
      .getHeapSpaceStatistics()
      .filter((s) => s.physical_space_size > 1e6)
      .map((s) => [s.space_name.replace('_space', ''), Math.round(s.physical_space_size / 1e6)]),
  );
  appendFileSync(
    out,
    `${JSON.stringify({
      t: Math.round(performance.now() / 1000),
      rss: Math.round(m.rss / 1e6),
      anon: f('RssAnon'),
      file: f('RssFile'),
      shm: f('RssShmem'),
      thr: f('Threads'),
      heap: Math.round(m.heapTotal / 1e6),
      ext: Math.round(m.external / 1e6),
      ...sp,
    })}\n`,
  );
}, 1000).unref();
