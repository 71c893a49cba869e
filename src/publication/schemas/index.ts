import { validationError } from '../../errors.ts';
import { cardTransactionsSchema } from './card-transactions.ts';
import { contractsSchema } from './contracts.ts';
import { landSchema } from './land.ts';
import { spendingSchema } from './spending.ts';
import type { TransparencySchema } from './transparency-schema.ts';

export type { TransparencySchema } from './transparency-schema.ts';

export const TRANSPARENCY_SCHEMAS: readonly TransparencySchema[] = [spendingSchema, cardTransactionsSchema, contractsSchema, landSchema];

export function findTransparencySchema(name: string): TransparencySchema {
  const schema = TRANSPARENCY_SCHEMAS.find((candidate) => candidate.name === name);
  if (!schema) {
    const names = TRANSPARENCY_SCHEMAS.map((candidate) => candidate.name).join(', ');
    throw validationError('unknown_transparency_schema', `There is no Transparency Code schema called "${name}". Use one of: ${names}.`, [{ field: 'transparency', message: `Use one of: ${names}` }]);
  }
  return schema;
}
