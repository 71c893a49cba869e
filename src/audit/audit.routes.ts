import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { notFound } from '../errors.ts';
import type { Services } from '../services.ts';

const ListQuery = Type.Object({
  before: Type.Optional(Type.Integer({ minimum: 2, description: 'Only checkpoints of fewer entries than this, for the next page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});
const ProofParams = Type.Object({ id: Type.Integer({ minimum: 1, description: 'Audit entry id' }) });
const ProofQuery = Type.Object({
  checkpoint: Type.Optional(Type.Integer({ minimum: 1, description: 'Tree size of the checkpoint to prove against; the latest when absent' })),
});

/**
 * The public face of the tamper-evident audit log: signed checkpoints, the key that verifies them, and inclusion proofs.
 * These hold only hashes, sizes and times, never entry contents, so they need no sign-in.
 */
export async function auditRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { checkpoints } = services.audit;

  app.get('/api/v1/audit/checkpoints', { schema: { querystring: ListQuery } }, async (request, reply) => {
    const query = request.query as { before?: number; limit?: number };
    const list = await checkpoints.listCheckpoints({ limit: query.limit ?? 100, beforeSize: query.before });
    void reply.header('cache-control', 'no-cache');
    return { ...checkpoints.publicKey(), checkpoints: list };
  });

  app.get('/api/v1/audit/checkpoints/latest', async (_request, reply) => {
    const latest = await checkpoints.latestCheckpoint();
    if (latest === null) throw notFound('checkpoint_not_found', 'No checkpoint has been signed yet.');
    void reply.header('cache-control', 'no-cache');
    return { ...latest, publicKey: checkpoints.publicKey().publicKey };
  });

  app.get('/api/v1/audit/entries/:id/proof', { schema: { params: ProofParams, querystring: ProofQuery } }, async (request) => {
    const { id } = request.params as { id: number };
    const { checkpoint } = request.query as { checkpoint?: number };
    return checkpoints.inclusionProof(id, checkpoint);
  });
}
