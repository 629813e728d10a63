/**
 * A PostgreSQL database of a test's own on the server at `HOOKYARD_TEST_DATABASE_URL`, for tests that
 * run Hookyard as child processes (they cannot share a schema-per-test the way in-process tests do).
 */
export async function createTestDatabase(baseUrl: string, label: string) {
  const { default: pg } = await import('pg');
  const name = `hookyard_${label}_${process.pid}_${Date.now()}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export const testDatabaseUrl = process.env.HOOKYARD_TEST_DATABASE_URL;
export const skipWithoutPostgres = testDatabaseUrl
  ? false
  : 'PostgreSQL tests skipped: set HOOKYARD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run them';
