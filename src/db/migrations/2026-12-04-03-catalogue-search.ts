import { sql, type Kysely } from 'kysely';

/**
 * Full-text search over dataset titles, tags and descriptions, and the title a file carried above its header.
 * Generated columns need an immutable expression; `array_to_string` is only stable, so the search text is built by a
 * function declared immutable (it is, for `text[]`, whose output does not depend on settings).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
create function civic_dataset_search_vector(title text, description text, tags text[]) returns tsvector
  language sql immutable parallel safe
  as $$
    select setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(array_to_string(tags, ' '), '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')
  $$;

alter table datasets add column search_vector tsvector
  generated always as (civic_dataset_search_vector(title, description, tags)) stored;
create index datasets_search_idx on datasets using gin (search_vector);
create index datasets_tags_idx on datasets using gin (tags);

alter table resources add column title_metadata text;
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
alter table resources drop column if exists title_metadata;
drop index if exists datasets_tags_idx;
alter table datasets drop column if exists search_vector;
drop function if exists civic_dataset_search_vector(text, text, text[]);
`,
    )
    .execute(db);
}
