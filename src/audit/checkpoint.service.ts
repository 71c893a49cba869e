import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { conflict, notFound, validationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { toBuffer } from './chain.ts';
import { readChainHead } from './chain.repository.ts';
import { CheckpointSigner } from './checkpoint-signer.ts';
import type { PublishedCheckpoint, PublishedKey } from './checkpoint.types.ts';
import { inclusionPath, leafHash } from './merkle.ts';

/** Entry hashes read per query while building a proof. */
const HASH_PAGE = 100_000;

export interface InclusionProof {
  entryId: number;
  /** 0-based leaf index of the entry (its id minus one). */
  leafIndex: number;
  treeSize: number;
  /** Hex hash of the entry; recompute it from the entry's fields to tie the proof to the entry's content. */
  entryHash: string;
  /** Hex sibling hashes from the leaf to the root, as RFC 6962 section 2.1.1 defines the audit path. */
  auditPath: string[];
  checkpoint: PublishedCheckpoint;
}

interface CheckpointRow {
  tree_size: number;
  root_hash: Uint8Array;
  created_at: Date;
  key_id: string;
  signature: Uint8Array;
}

function publish(row: CheckpointRow): PublishedCheckpoint {
  return {
    treeSize: Number(row.tree_size),
    rootHash: toBuffer(row.root_hash).toString('hex'),
    createdAt: new Date(row.created_at).toISOString(),
    keyId: row.key_id,
    algorithm: 'Ed25519',
    signature: toBuffer(row.signature).toString('base64'),
  };
}

/** Signed checkpoints of the audit log's Merkle tree, and inclusion proofs against them. */
export class CheckpointService {
  readonly #db: Database;
  readonly #logger: Logger;
  readonly signer: CheckpointSigner;

  constructor(db: Database, signer: CheckpointSigner, logger: Logger) {
    this.#db = db;
    this.signer = signer;
    this.#logger = logger;
  }

  publicKey(): PublishedKey {
    return { keyId: this.signer.keyId, algorithm: 'Ed25519', publicKey: this.signer.publicKey.toString('base64') };
  }

  /**
   * Signs the current tree if it has grown since the last checkpoint and returns the newest checkpoint (null while
   * the log is empty). The root comes from the chain head's stored frontier, so this reads no entries.
   */
  async createCheckpoint(now = new Date()): Promise<{ checkpoint: PublishedCheckpoint | null; created: boolean }> {
    const result = await this.#db.app.transaction().execute(async (trx) => {
      // Share-lock the head so no append commits between reading the size and the frontier.
      await sql`select 1 from audit_chain_head where id for share`.execute(trx);
      const head = await readChainHead(trx);
      if (head.size === 0) return { checkpoint: null, created: false };
      const existing = await trx.selectFrom('audit_checkpoints').selectAll().where('tree_size', '=', head.size).executeTakeFirst();
      if (existing) return { checkpoint: publish(existing), created: false };
      const body = { treeSize: head.size, rootHash: head.frontier.root(), createdAt: now };
      const row = {
        tree_size: body.treeSize,
        root_hash: body.rootHash,
        created_at: body.createdAt,
        key_id: this.signer.keyId,
        signature: this.signer.sign(body),
      };
      await trx.insertInto('audit_checkpoints').values(row).execute();
      return { checkpoint: publish(row), created: true };
    });
    if (result.created && result.checkpoint) {
      this.#logger.info({ treeSize: result.checkpoint.treeSize, keyId: result.checkpoint.keyId }, 'audit checkpoint signed');
    }
    return result;
  }

  /** Returns checkpoints newest first, `limit` at a time, each older than `beforeSize` when given. */
  async listCheckpoints(options: { limit: number; beforeSize?: number }): Promise<PublishedCheckpoint[]> {
    let query = this.#db.app.selectFrom('audit_checkpoints').selectAll().orderBy('tree_size', 'desc').limit(options.limit);
    if (options.beforeSize !== undefined) query = query.where('tree_size', '<', options.beforeSize);
    return (await query.execute()).map(publish);
  }

  async latestCheckpoint(): Promise<PublishedCheckpoint | null> {
    const [latest] = await this.listCheckpoints({ limit: 1 });
    return latest ?? null;
  }

  async checkpointOfSize(treeSize: number): Promise<PublishedCheckpoint | null> {
    const row = await this.#db.app.selectFrom('audit_checkpoints').selectAll().where('tree_size', '=', treeSize).executeTakeFirst();
    return row ? publish(row) : null;
  }

  /**
   * Builds the inclusion proof of entry `entryId` in the checkpoint of size `treeSize` (the latest checkpoint when
   * absent). Reads the entry hashes 1 to treeSize, so it costs time in proportion to the checkpoint's size.
   */
  async inclusionProof(entryId: number, treeSize?: number): Promise<InclusionProof> {
    const checkpoint = treeSize === undefined ? await this.latestCheckpoint() : await this.checkpointOfSize(treeSize);
    if (checkpoint === null) {
      throw treeSize === undefined
        ? notFound('checkpoint_not_found', 'No checkpoint has been signed yet. Run "civic audit checkpoint" and ask again.')
        : notFound('checkpoint_not_found', `There is no checkpoint of size ${treeSize}. List the checkpoints at /api/v1/audit/checkpoints.`);
    }
    if (entryId > checkpoint.treeSize) {
      // An id past the end of the log is a wrong id rather than a checkpoint too old, so #entryHash throws not found.
      await this.#entryHash(entryId);
      const next = treeSize === undefined ? 'Sign a new checkpoint with "civic audit checkpoint" and ask again.' : 'Ask for a later checkpoint.';
      throw validationError('entry_after_checkpoint', `Entry ${entryId} is newer than the checkpoint of size ${checkpoint.treeSize}. ${next}`);
    }
    const leaves = await this.#readLeaves(checkpoint.treeSize);
    if (leaves.length !== checkpoint.treeSize) {
      throw conflict(
        'checkpoint_entries_missing',
        `The audit log holds ${leaves.length} of the ${checkpoint.treeSize} entries of checkpoint ${checkpoint.treeSize}, so no proof can be built. Run "civic audit verify" to name the missing entries.`,
      );
    }
    const ownHash = await this.#entryHash(entryId);
    return {
      entryId,
      leafIndex: entryId - 1,
      treeSize: checkpoint.treeSize,
      entryHash: ownHash.toString('hex'),
      auditPath: inclusionPath(entryId - 1, leaves).map((hash) => hash.toString('hex')),
      checkpoint,
    };
  }

  async #entryHash(entryId: number): Promise<Buffer> {
    const row = await this.#platformRead((trx) => trx.selectFrom('audit_log').select('entry_hash').where('id', '=', entryId).executeTakeFirst());
    if (!row) throw notFound('audit_entry_not_found', `Audit entry ${entryId} does not exist.`);
    return toBuffer(row.entry_hash);
  }

  async #readLeaves(treeSize: number): Promise<Buffer[]> {
    const leaves: Buffer[] = [];
    for (let from = 1; from <= treeSize; from += HASH_PAGE) {
      const to = Math.min(treeSize, from + HASH_PAGE - 1);
      const rows = await this.#platformRead((trx) =>
        trx.selectFrom('audit_log').select(['id', 'entry_hash']).where('id', '>=', from).where('id', '<=', to).orderBy('id').execute(),
      );
      for (const row of rows) leaves.push(leafHash(toBuffer(row.entry_hash)));
    }
    return leaves;
  }

  /** Reads audit rows across organisations: entry hashes are public, so the platform scope is opened for them. */
  #platformRead<T>(work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return this.#db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      return work(trx);
    });
  }
}
