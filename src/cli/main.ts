#!/usr/bin/env node
/**
 * `hookyard` command line: serve (what `npm start` runs), migrate, listen. Parsing is node:util's
 * parseArgs in strict mode, so an unknown flag is an error, not a silent no-op. The executable is
 * hookyard.mjs, which turns on the module compile cache first; run directly, this file works the same
 * without it.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.ts';
import { type SettingName, settings } from '../config/settings.ts';
import { toError } from '../errors/coerce.ts';
import { createLogger } from '../log/logger.ts';
import { startServer } from '../main.ts';
import { createStorage, migrateDatabase } from '../storage/create-storage.ts';
import { createSealer } from '../storage/sealing.ts';
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
  reencrypt:
    'Rewrite stored secrets with the first HOOKYARD_ENCRYPTION_KEY (--plaintext: decrypt them all), then exit.',
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
    'Flags for serve, migrate, backup, restore and reencrypt (each also an environment variable; the flag wins):',
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

/**
 * Rewrites every endpoint's encrypted-at-rest columns (key rotation, turning encryption on for rows
 * written before, or off with --plaintext). Safe beside running servers that hold the same keys: a
 * row is rewritten only if unchanged since it was read, and servers read either form.
 */
async function reencrypt(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { ...settingFlags, plaintext: { type: 'boolean' as const } },
    strict: true,
    allowPositionals: false,
  });
  const { plaintext, ...flags } = values;
  const config = loadConfig(process.env, flags as Record<string, string | undefined>);
  if (config.encryptionKey.length === 0)
    throw new ConfigError(
      'hookyard reencrypt needs HOOKYARD_ENCRYPTION_KEY: the key to encrypt with first, then any older keys rows may still use',
    );
  const logger = createLogger(config.logLevel);
  const storage = await createStorage({
    config,
    logger,
    migrate: false,
    lockDataDir: false,
    writePlaintext: plaintext === true,
  });
  try {
    const rows = await storage.endpoints.reseal();
    const how =
      plaintext === true ? 'in plaintext' : `with key ${createSealer(config.encryptionKey).keyIds[0]}`;
    process.stdout.write(`rewrote ${rows} endpoint rows ${how} in ${storage.description}\n`);
  } finally {
    await storage.close();
  }
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
      case 'reencrypt':
        return await reencrypt(rest);
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
