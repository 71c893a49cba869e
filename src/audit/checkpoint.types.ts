/** A signed checkpoint as published at /api/v1/audit/checkpoints and accepted by `civic audit verify --checkpoint`. */
export interface PublishedCheckpoint {
  treeSize: number;
  /** Hex SHA-256 Merkle root over entries 1 to treeSize. */
  rootHash: string;
  /** ISO 8601 time of signing. */
  createdAt: string;
  keyId: string;
  algorithm: 'Ed25519';
  /** Base64 Ed25519 signature over the message `checkpointMessage` builds. */
  signature: string;
}

/** The published verification key. */
export interface PublishedKey {
  keyId: string;
  algorithm: 'Ed25519';
  /** Base64 of the 32 raw public key bytes. */
  publicKey: string;
}
