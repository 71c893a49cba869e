import type { AgreementVersion } from './agreement.types.ts';

/**
 * Returns the newest version that has not been discarded: the draft or submission under way, or else the version in
 * force or last approved. When every version is discarded (a first draft thrown away) it returns the newest one, so
 * the agreement's history can still be shown. `versions` must be in version order and not empty.
 */
export function currentVersion(versions: AgreementVersion[]): AgreementVersion {
  const kept = versions.filter((version) => version.status !== 'discarded');
  return kept.at(-1) ?? versions.at(-1)!;
}

/** The number for a new version, after every version including discarded ones, since numbers are never reused. */
export function nextVersionNumber(versions: AgreementVersion[]): number {
  return Math.max(0, ...versions.map((version) => version.version)) + 1;
}
