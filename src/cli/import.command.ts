import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { LoadReport, Visibility } from '../catalogue/catalogue.types.ts';
import { buildQueuedFilterIndexes } from '../catalogue/filter-indexes.ts';
import { parseTableSchema } from '../catalogue/schema-input.ts';
import { checkDatasetMetadata, checkDatasetSlug, checkOrganisationSlug, LICENCES, UPDATE_FREQUENCIES } from '../catalogue/catalogue.metadata.ts';
import { metadataFromFields, type MetadataFields } from '../catalogue/metadata-fields.ts';
import { uploadFile } from '../catalogue/upload.client.ts';
import { AppError } from '../errors.ts';
import type { TableSchema } from '../ingest/table-schema.ts';
import { publicationOutcome } from '../publication/import-outcome.ts';
import { countOf } from '../text.ts';
import type { PublicationImportOptions } from '../publication/publication.check.ts';
import { UsageError, type Command } from './command.ts';
import { announceUpload, progressReporter } from './import-progress.ts';
import { openServices } from './runtime.ts';

const USAGE =
  'civic import FILE --organisation SLUG --dataset SLUG [--title T] [--description TEXT] [--licence ID] [--tags LIST] ' +
  '[--update-frequency VALUE] [--temporal-start DATE] [--temporal-end DATE] [--spatial AREA] [--organisation-name NAME] [--schema table-schema.json] ' +
  '[--sheet NAME] [--visibility private|open] [--transparency spending|card-transactions|contracts|land] [--json] [--server URL --token TOKEN]';

interface ImportArguments {
  file: string;
  organisation: string;
  organisationName?: string;
  dataset: string;
  title?: string;
  metadata: MetadataFields;
  schemaPath?: string;
  sheet?: string;
  visibility?: Visibility;
  transparency?: string;
  json: boolean;
  server?: string;
  token?: string;
}

function parseImportArguments(argv: string[]): ImportArguments {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      organisation: { type: 'string' },
      'organisation-name': { type: 'string' },
      dataset: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      licence: { type: 'string' },
      tags: { type: 'string' },
      'update-frequency': { type: 'string' },
      'temporal-start': { type: 'string' },
      'temporal-end': { type: 'string' },
      spatial: { type: 'string' },
      schema: { type: 'string' },
      sheet: { type: 'string' },
      visibility: { type: 'string' },
      transparency: { type: 'string' },
      json: { type: 'boolean', default: false },
      server: { type: 'string' },
      token: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'Give the FILE to import.' : `Give one FILE to import, not ${positionals.length}.`);
  if (!values.organisation) throw new UsageError('--organisation SLUG is required.');
  if (!values.dataset) throw new UsageError('--dataset SLUG is required.');
  checkSlugOption('--organisation', () => checkOrganisationSlug(values.organisation!));
  checkSlugOption('--dataset', () => checkDatasetSlug(values.dataset!));
  if (values.visibility !== undefined && values.visibility !== 'private' && values.visibility !== 'open') {
    throw new UsageError(`--visibility is "${values.visibility}". Use private or open.`);
  }
  const token = values.token ?? (process.env.CIVIC_TOKEN || undefined);
  if (values.server !== undefined && token === undefined) throw new UsageError('--server needs --token TOKEN (or the CIVIC_TOKEN environment variable).');
  if (values.server === undefined && values.token !== undefined) throw new UsageError('--token is used only with --server URL.');
  if (values.server !== undefined && values.transparency !== undefined) throw new UsageError('--transparency is not yet sent to a server; load the file locally.');
  if (values.server !== undefined && values['organisation-name'] !== undefined) {
    throw new UsageError('--organisation-name cannot be used with --server, because a server loads only into an existing organisation.');
  }
  const metadata: MetadataFields = {
    description: values.description,
    licence: values.licence,
    tags: values.tags,
    update_frequency: values['update-frequency'],
    temporal_start: values['temporal-start'],
    temporal_end: values['temporal-end'],
    spatial: values.spatial,
  };
  if (values.title !== undefined && values.title.trim() === '') throw new UsageError('--title is blank. Give the dataset a title, or leave --title out to keep the current one.');
  checkMetadataOptions(metadata);
  return {
    file: positionals[0]!,
    organisation: values.organisation,
    organisationName: values['organisation-name'],
    dataset: values.dataset,
    title: values.title,
    metadata,
    schemaPath: values.schema,
    sheet: values.sheet,
    visibility: values.visibility as Visibility | undefined,
    transparency: values.transparency,
    json: values.json,
    server: values.server,
    token,
  };
}

/** The option that sets each metadata field, for messages. */
const METADATA_OPTIONS: Record<string, string> = {
  description: '--description',
  licence: '--licence',
  tags: '--tags',
  update_frequency: '--update-frequency',
  temporal_start: '--temporal-start',
  temporal_end: '--temporal-end',
  spatial: '--spatial',
};

/** Runs a slug check before any file is read or sent, so an invalid slug is a usage error that names its option. */
function checkSlugOption(option: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    throw new UsageError(`${option}: ${error.message}`);
  }
}

/** Checks the metadata options before any file is read or sent, naming each invalid option as a usage error. */
function checkMetadataOptions(fields: MetadataFields): void {
  try {
    checkDatasetMetadata(metadataFromFields(fields));
  } catch (error) {
    if (!(error instanceof AppError) || error.fields.length === 0) throw error;
    throw new UsageError(error.fields.map((field) => `${METADATA_OPTIONS[field.field] ?? field.field}: ${field.message}.`).join(' '));
  }
}

function checkReadableFile(filePath: string, what: string): void {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(filePath);
  } catch {
    // Node.js decodes arguments as UTF-8 and puts U+FFFD in place of other bytes, so a path with a Latin-1 or
    // Windows-1252 name cannot be opened as given.
    if (filePath.includes('\uFFFD')) {
      throw new AppError(
        'validation',
        'file_name_not_utf8',
        `${what} ${filePath} cannot be opened because its name is not valid UTF-8 (each \uFFFD stands for a byte that is not). Rename the file to a name in UTF-8 and try again.`,
      );
    }
    throw new AppError('not_found', 'file_not_found', `${what} ${filePath} was not found. Check the path.`);
  }
  if (!stats.isFile()) throw new AppError('validation', 'not_a_file', `${what} ${filePath} is not a file. Give the path of a file.`);
}

/** The warning that an open dataset became private; printed last, and on standard error with --json, so it is seen. */
const NO_LONGER_PUBLIC = 'dataset_no_longer_public';

function printReport(report: LoadReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const lines = [
    `Loaded ${countOf(report.rows, 'row')} from ${report.file} into ${report.organisation}/${report.dataset}, version ${report.version} (${report.visibility}).`,
    `Resource ${report.resource_id}: ${countOf(report.schema.fields.length, 'column')}, ${report.encoding}${report.delimiter ? `, delimiter ${JSON.stringify(report.delimiter)}` : ''}, header on ${report.sheet ? `row ${report.header_row} of sheet ${report.sheet}` : `line ${report.header_row}`}.`,
  ];
  // JSON quoting keeps a title with a line break (a stacked header) on its own line.
  for (const field of report.schema.fields) lines.push(`  ${field.name.padEnd(28)} ${field.type}${field.format ? ` (${field.format})` : ''}  ${JSON.stringify(field.title)}`);
  for (const warning of report.warnings) if (warning.code !== NO_LONGER_PUBLIC) lines.push(`Warning: ${warning.message}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function importLocally(args: ImportArguments, schema: TableSchema | undefined): Promise<LoadReport> {
  // Logs stay quiet unless LOG_LEVEL asks for them, so the progress bar and the report stay readable.
  const services = await openServices({ logLevel: process.env.LOG_LEVEL || 'warn' });
  const progress = progressReporter(fs.statSync(args.file).size);
  try {
    const options: PublicationImportOptions = {
      organisation: args.organisation,
      organisationName: args.organisationName,
      dataset: args.dataset,
      title: args.title,
      metadata: metadataFromFields(args.metadata),
      schema,
      sheet: args.sheet,
      visibility: args.visibility,
      transparency: args.transparency,
      actor: { kind: 'operator', name: os.userInfo().username },
      onProgress: progress.onProgress,
    };
    const report = await services.imports.importFile({ path: args.file, filename: path.basename(args.file) }, options);
    progress.stop();
    // A server builds queued indexes in its job worker; this command builds its own, so none waits for a server.
    if (process.stderr.isTTY) process.stderr.write('Loaded. Building filter indexes...\n');
    await buildQueuedFilterIndexes(services.db, report.resource_id);
    return report;
  } finally {
    progress.stop();
    await services.db.close();
  }
}

const HELP = `Options:
  --organisation SLUG       The organisation that publishes the dataset; created when missing (not with --server).
  --organisation-name NAME  The display name of an organisation this command creates; made from the slug when absent
                            ("thurrock-council" gives "Thurrock Council").
  --dataset SLUG            The dataset to add a version to; created when missing. Slugs are unique across the platform.
  --title T                 The dataset's title. For a new dataset, the title row above the header, or else the file
                            name, when absent; an existing dataset keeps its title unless this is given.
  --description TEXT        What the data is and how it was collected.
  --licence ID              The licence: ${LICENCES.map((licence) => licence.id).join(', ')}
                            (OGL-UK-3.0 for a new dataset when absent).
  --tags LIST               Tags, separated by commas, such as "spending, transparency". Replaces the dataset's tags.
  --update-frequency VALUE  How often new versions come: ${UPDATE_FREQUENCIES.join(', ')}.
  --temporal-start DATE     The first day the data covers, as YYYY-MM-DD.
  --temporal-end DATE       The last day the data covers, as YYYY-MM-DD, on or after --temporal-start.
  --spatial AREA            The area the data covers, such as Thurrock or the GSS code E06000034.
                            These details are set in the same transaction as the load, and sent with the file with
                            --server. An existing dataset keeps the details these options leave out.
  --schema FILE             A Frictionless Table Schema (JSON) whose field types replace the inferred ones.
  --sheet NAME              The worksheet to load from an XLSX or ODS workbook that has more than one.
  --visibility VALUE        private (the default for a new dataset) or open. A file with personal data, or with
                            counts from 1 to 9 in a table of counts by area, group or period, loads as private,
                            and the command exits with status 3 and names the fixes (civic publish).
  --transparency SCHEMA     Check the file against a Local Government Transparency Code schema: spending,
                            card-transactions, contracts or land. The load report lists each problem by row.
  --json                    Print one JSON load report on standard output instead of the text report.
  --server URL --token T    Send the file to a running server with an API token of the organisation (write scope),
                            instead of opening the database, which a running server holds.

Exit status: 0 when loaded, 2 for wrong arguments, 3 when open was asked for but personal data or small counts
kept the dataset private, 1 for any other failure (the message says what and where).`;

export const importCommand: Command = {
  name: 'import',
  usage: USAGE,
  help: HELP,
  async run(argv) {
    const args = parseImportArguments(argv);
    checkReadableFile(args.file, 'File');
    let schemaText: string | undefined;
    let schema: TableSchema | undefined;
    if (args.schemaPath !== undefined) {
      checkReadableFile(args.schemaPath, 'Schema file');
      schemaText = fs.readFileSync(args.schemaPath, 'utf8');
      schema = parseTableSchema(schemaText, `Schema file ${args.schemaPath}`);
    }
    if (args.server !== undefined) announceUpload(path.basename(args.file), fs.statSync(args.file).size, args.server);
    const report =
      args.server !== undefined
        ? await uploadFile({
            server: args.server,
            token: args.token!,
            filePath: args.file,
            organisation: args.organisation,
            dataset: args.dataset,
            title: args.title,
            metadata: args.metadata,
            schema: schemaText,
            sheet: args.sheet,
            visibility: args.visibility,
          })
        : await importLocally(args, schema);
    printReport(report, args.json);
    const outcome = publicationOutcome(report, args.visibility);
    if (!args.json && outcome.lines.length > 0) process.stdout.write(`${outcome.lines.join('\n')}\n`);
    if (outcome.exitCode !== 0 && args.json) process.stderr.write(`${outcome.lines[outcome.lines.length - 1]}\n`);
    const noLongerPublic = report.warnings.find((warning) => warning.code === NO_LONGER_PUBLIC);
    if (noLongerPublic) (args.json ? process.stderr : process.stdout).write(`Warning: ${noLongerPublic.message}\n`);
    return outcome.exitCode;
  },
};
