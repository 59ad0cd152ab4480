import { pino, type Logger } from 'pino';

/** Structured JSON logs on stdout; the key never appears in them (see redact paths). */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'wan-api' },
    redact: { paths: ['req.headers.authorization', '*.authorization', '*.api_key', '*.apiKey'], censor: '[redacted]' },
  });
}
