import type { Database } from '../db/database.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { Logger } from '../logger.ts';
import { CheckpointSigner } from './checkpoint-signer.ts';
import { CheckpointService } from './checkpoint.service.ts';
import { DisclosureLog } from './disclosure.repository.ts';

/** The audit feature's services: the disclosure log that releases write to, and the signed checkpoints. */
export interface AuditServices {
  /** `services.audit.disclosures.appendDisclosure(trx, record)` records a release in the caller's transaction. */
  disclosures: DisclosureLog;
  checkpoints: CheckpointService;
}

export function createAuditServices(db: Database, keys: KeyRing, logger: Logger): AuditServices {
  return {
    disclosures: new DisclosureLog(keys),
    checkpoints: new CheckpointService(db, new CheckpointSigner(keys), logger),
  };
}
