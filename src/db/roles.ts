/**
 * The non-owner role that every request runs as. Row-level security applies to it, and it holds only the privileges
 * that migrations grant.
 */
export const APP_ROLE = 'civic_app';

/** The role that datastore_search_sql queries run as. It can read the datastore tables and no other table of ours. */
export const SQL_READER_ROLE = 'civic_sql_reader';
