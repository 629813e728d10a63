/**
 * The cost model's raw counters for one measurement window: what the SQL side of a contender did,
 * next to the CPU and bytes written that proc-stats reads from /proc.
 *
 *   SQL calls      Hookyard processes are started with bench/instrument/count-queries.ts preloaded;
 *                  a SIGUSR2 makes each write its totals (pg round trips and statements, SQLite calls
 *                  and statements) to a file, read at the start and end of the window.
 *   PostgreSQL     pg_stat_database of the contender's database (transactions, rows), read once its
 *                  backends have exited, because a backend reports its counters only every second or
 *                  so and on exit; WAL bytes from pg_current_wal_lsn() at both ends, with pg_stat_wal's
 *                  records and syncs. WAL is cluster-wide: other databases' transactions in the same
 *                  window are counted too (`otherXacts` says how many there were, so a figure taken on
 *                  a busy server can be recognised). The same holds for the CPU of PostgreSQL's shared
 *                  processes (WAL writer, checkpointer, background writer), read from /proc.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { readCpuTicks, ticksPerSecond } from './proc-stats.ts';

export interface QueryCounts {
  readonly pgRoundTrips: number;
  readonly pgStatements: number;
  readonly sqliteCalls: number;
  readonly sqliteStatements: number;
}

/** A process started with the counting preload, and the file it writes its totals to. */
export interface CountedProcess {
  readonly pid: number;
  readonly file: string;
}

export interface DatabaseCounters {
  readonly xacts: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsDeleted: number;
  readonly rowsFetched: number;
  readonly blocksRead: number;
  readonly walBytes: number;
  readonly walRecords: number;
  readonly walSyncs: number;
  /** Transactions in other databases of the cluster during the window (the admin database aside). */
  readonly otherXacts: number;
  /**
   * CPU of PostgreSQL's shared processes (WAL writer, checkpointer, background writer, autovacuum):
   * work done for every database, so the contender's share only on an otherwise idle server.
   */
  readonly sharedCpuSeconds: number;
}

export interface CostWindow extends Partial<QueryCounts> {
  readonly database?: DatabaseCounters;
}

const zeroCounts: QueryCounts = { pgRoundTrips: 0, pgStatements: 0, sqliteCalls: 0, sqliteStatements: 0 };

function readCounts(file: string): (QueryCounts & { seq: number }) | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as QueryCounts & { seq: number };
  } catch {
    return undefined;
  }
}

/** Asks every counted process for a snapshot and sums them; a process that does not answer is skipped. */
async function snapshot(processes: readonly CountedProcess[]): Promise<QueryCounts> {
  const before = processes.map((p) => readCounts(p.file)?.seq ?? 0);
  for (const p of processes) {
    try {
      process.kill(p.pid, 'SIGUSR2');
    } catch {}
  }
  const total = { ...zeroCounts };
  const deadline = performance.now() + 2_000;
  for (const [index, p] of processes.entries()) {
    let counts = readCounts(p.file);
    while ((counts?.seq ?? 0) <= before[index]! && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      counts = readCounts(p.file);
    }
    if (!counts || counts.seq <= before[index]!) continue;
    total.pgRoundTrips += counts.pgRoundTrips;
    total.pgStatements += counts.pgStatements;
    total.sqliteCalls += counts.sqliteCalls;
    total.sqliteStatements += counts.sqliteStatements;
  }
  return total;
}

interface DatabaseReading {
  readonly lsn: string;
  readonly stats: Record<string, number>;
  readonly otherXacts: number;
  readonly walRecords: number;
  readonly walSyncs: number;
  /** CPU ticks of each of PostgreSQL's shared (non-client) processes. */
  readonly sharedTicks: ReadonlyMap<number, number>;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function readDatabase(adminUrl: string, database: string): Promise<DatabaseReading> {
  return withClient(adminUrl, async (client) => {
    // Counters this session has not flushed yet would be missing from the views; there are none
    // worth having (it only reads), but clear the snapshot cache so the views are current.
    await client.query('select pg_stat_clear_snapshot()');
    const db = await client.query<Record<string, string>>(
      `select xact_commit + xact_rollback as xacts, tup_inserted as "rowsInserted", tup_updated as "rowsUpdated",
              tup_deleted as "rowsDeleted", tup_fetched as "rowsFetched", blks_read as "blocksRead"
         from pg_stat_database where datname = $1`,
      [database],
    );
    // The admin database is left out: the bench's own readings run there.
    const other = await client.query<{ n: string }>(
      `select coalesce(sum(xact_commit + xact_rollback), 0) as n from pg_stat_database
        where datname is distinct from $1 and datname is distinct from current_database()`,
      [database],
    );
    const wal = await client.query<{ lsn: string; records: string; syncs: string }>(
      'select pg_current_wal_lsn()::text as lsn, wal_records as records, wal_sync as syncs from pg_stat_wal',
    );
    const stats = Object.fromEntries(Object.entries(db.rows[0] ?? {}).map(([k, v]) => [k, Number(v)]));
    const shared = await client.query<{ pid: number }>(
      "select pid from pg_stat_activity where backend_type <> 'client backend'",
    );
    const sharedTicks = new Map<number, number>();
    for (const { pid } of shared.rows) {
      const ticks = readCpuTicks(pid);
      if (ticks !== undefined) sharedTicks.set(pid, ticks);
    }
    return {
      sharedTicks,
      lsn: wal.rows[0]!.lsn,
      stats,
      otherXacts: Number(other.rows[0]!.n),
      walRecords: Number(wal.rows[0]!.records),
      walSyncs: Number(wal.rows[0]!.syncs),
    };
  });
}

async function walBytesBetween(adminUrl: string, from: string, to: string): Promise<number> {
  return withClient(adminUrl, async (client) => {
    const res = await client.query<{ n: string }>('select pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn) as n', [
      from,
      to,
    ]);
    return Number(res.rows[0]!.n);
  });
}

async function backendsGone(adminUrl: string, database: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const n = await withClient(adminUrl, async (client) => {
      const res = await client.query<{ n: string }>(
        'select count(*) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [database],
      );
      return Number(res.rows[0]!.n);
    });
    if (n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface CostSource {
  /** Processes started with the counting preload. */
  readonly counted?: () => readonly CountedProcess[];
  /** The contender's PostgreSQL database, and an admin URL to read the statistics views with. */
  readonly postgres?: { readonly adminUrl: string; readonly database: string };
}

export interface CostMeter {
  begin(): Promise<void>;
  /** End of the window, while the contender still runs: query counts and the WAL position (exact). */
  end(): Promise<void>;
  /** After the contender stopped: PostgreSQL's per-database counters, now flushed. */
  finish(): Promise<CostWindow>;
}

export function createCostMeter(source: CostSource): CostMeter {
  let countsAtBegin: QueryCounts | undefined;
  let countsAtEnd: QueryCounts | undefined;
  let dbAtBegin: DatabaseReading | undefined;
  let lsnAtEnd: string | undefined;
  let sharedAtEnd: ReadonlyMap<number, number> | undefined;
  const pgSource = source.postgres;
  return {
    async begin() {
      if (source.counted) countsAtBegin = await snapshot(source.counted());
      if (pgSource) dbAtBegin = await readDatabase(pgSource.adminUrl, pgSource.database);
    },
    async end() {
      if (source.counted) countsAtEnd = await snapshot(source.counted());
      if (pgSource) {
        const reading = await readDatabase(pgSource.adminUrl, pgSource.database);
        lsnAtEnd = reading.lsn;
        sharedAtEnd = reading.sharedTicks;
      }
    },
    async finish() {
      const out: { -readonly [K in keyof CostWindow]: CostWindow[K] } = {};
      if (countsAtBegin && countsAtEnd) {
        for (const key of Object.keys(zeroCounts) as (keyof QueryCounts)[])
          out[key] = countsAtEnd[key] - countsAtBegin[key];
      }
      if (pgSource && dbAtBegin && lsnAtEnd && sharedAtEnd) {
        let sharedTicks = 0;
        // A shared process that started in the window (an autovacuum worker) counts from zero.
        for (const [pid, ticks] of sharedAtEnd) sharedTicks += ticks - (dbAtBegin.sharedTicks.get(pid) ?? 0);
        await backendsGone(pgSource.adminUrl, pgSource.database, 5_000);
        const after = await readDatabase(pgSource.adminUrl, pgSource.database);
        const delta = (key: string) => (after.stats[key] ?? 0) - (dbAtBegin!.stats[key] ?? 0);
        out.database = {
          xacts: delta('xacts'),
          rowsInserted: delta('rowsInserted'),
          rowsUpdated: delta('rowsUpdated'),
          rowsDeleted: delta('rowsDeleted'),
          rowsFetched: delta('rowsFetched'),
          blocksRead: delta('blocksRead'),
          walBytes: await walBytesBetween(pgSource.adminUrl, dbAtBegin.lsn, lsnAtEnd),
          // pg_stat_wal, like pg_stat_database, is complete only once the backends have reported.
          walRecords: after.walRecords - dbAtBegin.walRecords,
          walSyncs: after.walSyncs - dbAtBegin.walSyncs,
          otherXacts: after.otherXacts - dbAtBegin.otherXacts,
          sharedCpuSeconds: sharedTicks / ticksPerSecond,
        };
      }
      return out;
    },
  };
}
