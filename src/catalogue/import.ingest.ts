import { analyseFile } from '../ingest/analyse.ts';
import { columnSqlType } from '../ingest/column-names.ts';
import { copyRows } from '../ingest/copy-rows.ts';
import type { IngestFunctions } from './import.types.ts';

/** The real ingest functions; `copyRows` yields COPY text or binary rows, `_id` first. */
export const ingestFunctions: IngestFunctions = { analyseFile, copyRows, columnSqlType };
