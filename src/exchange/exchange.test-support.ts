import http from 'node:http';
import { Writable } from 'node:stream';
import { KeyRing } from '../keys/key-ring.ts';
import { createLogger } from '../logger.ts';
import { createServices, type Services } from '../services.ts';
import type { Database } from '../db/database.ts';
import { testConfig } from '../../test/helpers/services.ts';
import { createExchangeServices } from './exchange.services.ts';
import { randomBytes } from 'node:crypto';

/** A clock the test sets; every service reading the time reads this. */
export class TestClock {
  now: Date;
  /** Milliseconds added after each reading, so time moves on as a long operation runs. */
  stepMs = 0;

  constructor(iso: string) {
    this.now = new Date(iso);
  }

  read = (): Date => {
    const value = new Date(this.now);
    this.now = new Date(this.now.getTime() + this.stepMs);
    return value;
  };
}

/** Real services on `db` with a controllable clock, debug logs captured in `logLines`, and small export chunks. */
export function exchangeTestServices(db: Database, clock: TestClock): { services: Services; logLines: string[] } {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const config = testConfig({ logLevel: 'debug' });
  const logger = createLogger('debug', sink);
  const keys = new KeyRing(randomBytes(32));
  const services = createServices({ config, logger, db, keys });
  services.exchange = createExchangeServices({ config, db, keys, logger, mailer: services.accounts.mailer, clock: clock.read, exportChunkRows: 10 });
  return { services, logLines };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  body: Buffer;
}

/** A GET with node:http, which exposes HTTP trailers (fetch does not). */
export function getWithTrailers(url: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, trailers: response.trailers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}
