import { type Logger, pino } from 'pino';

export type { Logger };

/** JSON logs; pretty-printed when stdout is a terminal so a person running `npm start` can read them. */
export function createLogger(level: string, pretty = process.stdout.isTTY === true): Logger {
  return pino({
    level,
    base: { service: 'hookyard' },
    redact: ['req.headers.authorization', 'headers.authorization'],
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
}
