import type { AccountServices } from '../accounts/account-services.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { Logger } from '../logger.ts';
import { ExportService } from './export.service.ts';
import { MembersService } from './members.service.ts';
import { PlanChangeService } from './plan-change.ts';
import { RegistrationService } from './registration.service.ts';
import { ReviewService } from './review.service.ts';
import { SecondFactorReset } from './second-factor-reset.ts';
import { SsoService } from './sso.service.ts';

/** The services of the tenancy feature, built once by createServices. */
export interface TenancyServices {
  registration: RegistrationService;
  review: ReviewService;
  plans: PlanChangeService;
  members: MembersService;
  sso: SsoService;
  exports: ExportService;
  secondFactor: SecondFactorReset;
}

export function createTenancyServices(config: Config, logger: Logger, db: Database, keys: KeyRing, accounts: AccountServices): TenancyServices {
  return {
    registration: new RegistrationService(db, accounts.links, accounts.mailer, config.publicUrl),
    review: new ReviewService(db, accounts.mailer),
    plans: new PlanChangeService(db, accounts.mailer),
    members: new MembersService(db, accounts.mailer, config.publicUrl),
    sso: new SsoService(db, keys, accounts.sessions, config, logger),
    exports: new ExportService(db),
    secondFactor: new SecondFactorReset(db, accounts.sessions, accounts.mailer, config.publicUrl),
  };
}
