import path from 'node:path';

/** Settings read once at start-up from environment variables. */
export interface Config {
  /** Folder for the embedded database, the master key file and other local state. */
  dataDir: string;
  /** PostgreSQL connection string; when absent the embedded PGlite engine is used. */
  databaseUrl: string | undefined;
  host: string;
  port: number;
  /** Base URL that links in pages, feeds and metadata are built from, without a trailing slash. */
  publicUrl: string;
  logLevel: string;
  /** Base64 master key; when absent in embedded mode a key file is created in the data folder. */
  masterKey: string | undefined;
  /** Size of the PostgreSQL connection pool for request handling. */
  poolSize: number;
  /** Statement timeout for user-supplied `datastore_search_sql` queries, in milliseconds. */
  sqlTimeoutMs: number;
  production: boolean;
  /** SMTP server for outgoing email (smtp:// or smtps://); when absent, messages go to the `outbox` table. */
  smtpUrl?: string | undefined;
  /** Sender address of outgoing email. */
  mailFrom?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function readInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} is "${raw}", which is not a whole number from ${min} to ${max}. Set it to such a number or unset it to use ${fallback}.`);
  }
  return value;
}

/** Returns the address that links point to when PUBLIC_URL is not set: this machine, on the port the server uses. */
export function defaultPublicUrl(port: number): string {
  return `http://localhost:${port}`;
}

/** Validates the environment and returns the configuration; throws ConfigError naming the variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = readInteger(env, 'PORT', 3000, 0, 65535);
  const host = env.HOST ?? '127.0.0.1';
  const databaseUrl = env.DATABASE_URL === '' ? undefined : env.DATABASE_URL;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://. Unset it to use the embedded database.');
  }
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL is "${logLevel}". Use one of: ${LOG_LEVELS.join(', ')}.`);
  }
  const masterKey = env.CIVIC_MASTER_KEY === '' ? undefined : env.CIVIC_MASTER_KEY;
  if (masterKey !== undefined && Buffer.from(masterKey, 'base64').length < 32) {
    throw new ConfigError('CIVIC_MASTER_KEY must be at least 32 bytes encoded as base64. Generate one with: openssl rand -base64 32');
  }
  const production = env.NODE_ENV === 'production';
  if (production && databaseUrl !== undefined && masterKey === undefined) {
    throw new ConfigError('CIVIC_MASTER_KEY is required in production with DATABASE_URL, so every instance derives the same keys.');
  }
  const publicUrl = (env.PUBLIC_URL || defaultPublicUrl(port)).replace(/\/+$/, '');
  return {
    dataDir: path.resolve(env.CIVIC_DATA_DIR ?? './data'),
    databaseUrl,
    host,
    port,
    publicUrl,
    logLevel,
    masterKey,
    poolSize: readInteger(env, 'CIVIC_POOL_SIZE', 10, 1, 500),
    sqlTimeoutMs: readInteger(env, 'CIVIC_SQL_TIMEOUT_MS', 5000, 100, 600000),
    production,
    smtpUrl: readSmtpUrl(env),
    mailFrom: env.MAIL_FROM ?? 'Thurrock Data Exchange <no-reply@localhost>',
  };
}

function readSmtpUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.SMTP_URL;
  if (raw === undefined || raw === '') return undefined;
  if (!/^smtps?:\/\//.test(raw)) throw new ConfigError('SMTP_URL must start with smtp:// or smtps://. Unset it to keep email in the outbox table.');
  return raw;
}
