import { type Config, type SettingName, settings } from './settings.ts';

/** Thrown for a bad setting; its message is the one line start-up prints before exiting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Builds the frozen config: defaults < environment < flags. `flags` maps a setting's flag name
 * (`data-dir`) to its raw value, as the CLI parsed it. Every value is validated here, once.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  flags: Readonly<Record<string, string | undefined>> = {},
): Config {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(settings) as SettingName[]) {
    const setting = settings[name];
    const fromFlag = flags[setting.flag];
    const fromEnv = env[setting.env];
    const raw = fromFlag ?? fromEnv ?? setting.default;
    const source = fromFlag !== undefined ? `--${setting.flag}` : setting.env;
    try {
      out[name] = setting.parse(raw);
    } catch (error) {
      const accepts = error instanceof Error ? error.message : setting.accepts;
      const shown = setting.secret ? '(hidden)' : JSON.stringify(raw);
      throw new ConfigError(`invalid ${source}=${shown}: expected ${accepts}`);
    }
  }
  return Object.freeze(out) as Config;
}

/** A config for tests and embedding: defaults plus overrides, validated the same way. */
export function configWith(overrides: Partial<Record<SettingName, string>>): Config {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(overrides)) {
    if (value !== undefined) env[settings[name as SettingName].env] = value;
  }
  return loadConfig(env);
}
