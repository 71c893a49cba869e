import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { CsrfProtection } from '../http/csrf.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { AccountLinkService } from './account-link.service.ts';
import { Mailer } from './mailer.ts';
import { SessionService } from './session.service.ts';
import { SignInService } from './sign-in.service.ts';

/** The services of the accounts feature, built once by createServices. */
export interface AccountServices {
  sessions: SessionService;
  signIn: SignInService;
  links: AccountLinkService;
  mailer: Mailer;
  rateLimiter: RateLimiter;
  csrf: CsrfProtection;
}

export function createAccountServices(config: Config, db: Database, keys: KeyRing): AccountServices {
  const sessions = new SessionService(db, config);
  const mailer = new Mailer(db, config);
  return {
    sessions,
    signIn: new SignInService(db, keys, sessions),
    links: new AccountLinkService(db, mailer, sessions, config.publicUrl),
    mailer,
    rateLimiter: new RateLimiter(db, keys),
    csrf: new CsrfProtection(config.production),
  };
}
