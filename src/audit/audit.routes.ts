// Brings the OpenAPI route schema keys (tags, summary) into Fastify's schema type.
import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorResponse } from '../api-v1/api-v1.schemas.ts';
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

const TAGS = ['Audit log'];
const Algorithm = Type.Literal('Ed25519');
const KeyId = Type.String({ description: 'Id of the checkpoint signing key.' });
const PublicKey = Type.String({ description: 'Base64 of the 32 raw bytes of the Ed25519 public key that verifies checkpoint signatures.' });

const CheckpointFields = {
  treeSize: Type.Integer({ minimum: 1, description: 'Number of audit entries the checkpoint covers (entries 1 to treeSize).' }),
  rootHash: Type.String({ description: 'Hex SHA-256 Merkle root over entries 1 to treeSize.' }),
  createdAt: Type.String({ format: 'date-time', description: 'Time of signing.' }),
  keyId: KeyId,
  algorithm: Algorithm,
  signature: Type.String({ description: 'Base64 Ed25519 signature over the checkpoint, which `civic audit verify --checkpoint` checks.' }),
};
const Checkpoint = Type.Object(CheckpointFields, { description: 'A signed checkpoint.' });

const CheckpointList = Type.Object({
  keyId: KeyId,
  algorithm: Algorithm,
  publicKey: PublicKey,
  checkpoints: Type.Array(Checkpoint, { description: 'Newest first. For the next page, send the treeSize of the last one as `before`.' }),
}, { description: 'The checkpoints and the key that verifies them.' });

const LatestCheckpoint = Type.Object({ ...CheckpointFields, publicKey: PublicKey }, { description: 'The newest checkpoint and the key that verifies it.' });

const InclusionProofBody = Type.Object({
  entryId: Type.Integer({ minimum: 1 }),
  leafIndex: Type.Integer({ minimum: 0, description: 'The entry id minus one.' }),
  treeSize: Type.Integer({ minimum: 1 }),
  entryHash: Type.String({ description: 'Hex hash of the entry. Recompute it from the entry to tie the proof to its content.' }),
  auditPath: Type.Array(Type.String(), { description: 'Hex sibling hashes from the leaf to the root (the RFC 6962 audit path).' }),
  checkpoint: Checkpoint,
}, { description: 'The inclusion proof.' });

/**
 * The public face of the tamper-evident audit log: signed checkpoints, the key that verifies them, and inclusion proofs.
 * These hold only hashes, sizes and times, never entry contents, so they need no sign-in.
 */
export async function auditRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { checkpoints } = services.audit;

  app.get('/api/v1/audit/checkpoints', {
    schema: {
      tags: TAGS,
      summary: 'List signed checkpoints of the audit log, newest first, with the verification key',
      querystring: ListQuery,
      response: { 200: CheckpointList, 400: ErrorResponse },
    },
  }, async (request, reply) => {
    const query = request.query as { before?: number; limit?: number };
    const list = await checkpoints.listCheckpoints({ limit: query.limit ?? 100, beforeSize: query.before });
    void reply.header('cache-control', 'no-cache');
    return { ...checkpoints.publicKey(), checkpoints: list };
  });

  app.get('/api/v1/audit/checkpoints/latest', {
    schema: {
      tags: TAGS,
      summary: 'Show the newest signed checkpoint with the verification key',
      description: '404 until the first checkpoint has been signed.',
      response: { 200: LatestCheckpoint, 404: ErrorResponse },
    },
  }, async (_request, reply) => {
    const latest = await checkpoints.latestCheckpoint();
    if (latest === null) throw notFound('checkpoint_not_found', 'No checkpoint has been signed yet.');
    void reply.header('cache-control', 'no-cache');
    return { ...latest, publicKey: checkpoints.publicKey().publicKey };
  });

  app.get('/api/v1/audit/entries/:id/proof', {
    schema: {
      tags: TAGS,
      summary: 'Prove that an audit entry is included in a signed checkpoint',
      description:
        '400 when the entry is newer than the checkpoint, 404 when the entry or the checkpoint does not exist, and 409 ' +
        'when entries the checkpoint covers are missing from the log.',
      params: ProofParams,
      querystring: ProofQuery,
      response: { 200: InclusionProofBody, 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
    },
  }, async (request) => {
    const { id } = request.params as { id: number };
    const { checkpoint } = request.query as { checkpoint?: number };
    return checkpoints.inclusionProof(id, checkpoint);
  });
}
