#!/usr/bin/env node
/**
 * `hookyard` command line: serve (what `npm start` runs), migrate, listen. Parsing is node:util's
 * parseArgs in strict mode, so an unknown flag is an error, not a silent no-op.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.ts';
import { type SettingName, settings } from '../config/settings.ts';
import { toError } from '../errors/coerce.ts';
import { createLogger } from '../log/logger.ts';
import { startServer } from '../main.ts';
import { migrateDatabase } from '../storage/create-storage.ts';
import { version } from '../version.ts';

const settingFlags = Object.fromEntries(
  (Object.keys(settings) as SettingName[]).map((name) => [settings[name].flag, { type: 'string' as const }]),
);

const commands = {
  serve: 'Run the API and the delivery workers (the default role).',
  migrate: 'Apply pending database migrations, then exit.',
  listen: 'Run a local receiver that verifies and prints deliveries (--port, --secret).',
  backup: 'Copy the embedded SQLite database to <file>, online while Hookyard runs.',
  restore: "Replace the data directory's database with the backup <file> (Hookyard stopped).",
} as const;

export function usage(): string {
  const lines = [
    `hookyard ${version}: self-hosted webhook delivery with a Svix-compatible API`,
    '',
    'Usage: hookyard <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, text]) => `  ${name.padEnd(10)}${text}`),
    '',
    'Flags for serve, migrate, backup and restore (each also an environment variable; the flag wins):',
    ...(Object.keys(settings) as SettingName[]).map((name) => {
      const s = settings[name];
      return `  --${`${s.flag} <value>`.padEnd(32)}${s.env} (default ${s.default === '' ? 'empty' : s.default})`;
    }),
    '',
    'Other flags: --help, --version',
  ];
  return lines.join('\n');
}

function fail(message: string): never {
  process.stderr.write(`hookyard: ${message}\n\n${usage()}\n`);
  process.exit(2);
}

async function serve(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const config = loadConfig(process.env, flags);
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, logger);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests and deliveries');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await server.started;
  } catch (error) {
    // A signal during start-up aborts it; that is a shutdown, not a failure.
    if (stopping) return;
    await server.close();
    throw error;
  }
}

async function migrate(args: string[]): Promise<void> {
  const config = loadConfig(process.env, parseFlags(args));
  const logger = createLogger(config.logLevel);
  // Applies pending migrations under the backend's lock and refuses a newer schema. It takes no
  // data-dir lock, so it can run beside a server.
  const result = await migrateDatabase({ config, logger });
  const applied = result.applied.length === 0 ? 'already up to date' : `applied ${result.applied.join(', ')}`;
  process.stdout.write(`migrated ${result.database} to schema ${result.to} (${applied})\n`);
}

async function backupOrRestore(command: 'backup' | 'restore', args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: settingFlags,
    strict: true,
    allowPositionals: true,
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    fail(`${command} takes exactly one file: hookyard ${command} <file>`);
  const config = loadConfig(process.env, values as Record<string, string | undefined>);
  const { runBackup, runRestore } = await import('./backup.ts');
  const line = command === 'backup' ? await runBackup(config, file) : await runRestore(config, file);
  process.stdout.write(`${line}\n`);
}

async function listen(args: string[]): Promise<void> {
  const { runListen } = await import('./listen.ts');
  await runListen(args);
}

function parseFlags(args: string[]): Record<string, string | undefined> {
  const { values } = parseArgs({ args, options: settingFlags, strict: true, allowPositionals: false });
  return values as Record<string, string | undefined>;
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version}\n`);
    return;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'migrate':
        return await migrate(rest);
      case 'listen':
        return await listen(rest);
      case 'backup':
      case 'restore':
        return await backupOrRestore(command, rest);
      default:
        fail(`unknown command "${command}"`);
    }
  } catch (error) {
    const err = toError(error);
    if (err instanceof ConfigError) {
      process.stderr.write(`hookyard: ${err.message}\n`);
      process.exit(2);
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) fail(err.message);
    // Start-up failures (schema too new, data dir locked, database down) are one line, not a stack.
    process.stderr.write(`hookyard: ${err.message}\n`);
    process.exit(1);
  }
}

if (import.meta.main) {
  await main(process.argv.slice(2));
}
