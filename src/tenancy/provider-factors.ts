/**
 * Authentication method references (RFC 8176) that an OpenID provider lists in the ID token's `amr` claim, grouped by
 * the kind of factor each one is. Methods that are no factor of their own (`geo`, `mca`, `rba`, `user`, `wia`) are
 * left out.
 */
const FACTOR_KINDS: Readonly<Record<string, 'knowledge' | 'possession' | 'inherence'>> = {
  pwd: 'knowledge',
  pin: 'knowledge',
  kba: 'knowledge',
  hwk: 'possession',
  swk: 'possession',
  otp: 'possession',
  sms: 'possession',
  tel: 'possession',
  sc: 'possession',
  face: 'inherence',
  fpt: 'inherence',
  iris: 'inherence',
  retina: 'inherence',
  vbm: 'inherence',
};

/**
 * Returns whether an ID token's `amr` claim shows a sign-in with more than one factor: the `mfa` method, or methods
 * of two different kinds (a password and a one-time code, say). A missing or malformed claim shows nothing, so the
 * caller asks for this service's own second factor instead.
 */
export function providerUsedSeveralFactors(amr: unknown): boolean {
  if (!Array.isArray(amr)) return false;
  const methods = amr.filter((method): method is string => typeof method === 'string');
  if (methods.includes('mfa')) return true;
  const kinds = new Set(methods.map((method) => FACTOR_KINDS[method]).filter((kind) => kind !== undefined));
  return kinds.size >= 2;
}
