/**
 * The non-owner role that every request runs as. Row-level security applies to it, and it holds only the privileges
 * that migrations grant.
 */
export const APP_ROLE = 'civic_app';
