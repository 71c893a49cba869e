import type { DatasetDetail, ResourceVersion } from '../catalogue/catalogue.types.ts';
import { formatNumber } from '../http/views.ts';
import { countOf } from '../text.ts';
import { columnRows, personalDataFindings, type ColumnRow } from './dataset-view.ts';

/** A row of a GOV.UK summary list. */
interface SummaryRow {
  key: { text: string };
  value: { text: string };
}

/** The load report of one version in plain words, for the page shown after an upload. */
export interface LoadReportView {
  rows: SummaryRow[];
  columns: ColumnRow[];
  /** Every warning of the load, as the importer worded it. */
  warnings: string[];
  /** The columns that the publication check found personal data or small counts in. */
  personalData: string[];
  /** True when findings in `personalData` keep the dataset private. */
  keptPrivate: boolean;
}

const FORMAT_NAMES: Record<string, string> = {
  csv: 'Text file with delimited values (CSV)',
  xlsx: 'Excel workbook (XLSX)',
  ods: 'OpenDocument spreadsheet (ODS)',
};

const DELIMITER_NAMES: Record<string, string> = {
  ',': 'Comma (,)',
  ';': 'Semicolon (;)',
  '\t': 'Tab',
  '|': 'Vertical bar (|)',
};

/** Names a field delimiter in words, since a tab or a comma on its own is hard to read on a page. */
export function delimiterName(delimiter: string): string {
  return DELIMITER_NAMES[delimiter] ?? `"${delimiter}"`;
}

/** Describes the stored load report of `version`, a version of `dataset`, in plain words. */
export function loadReportView(dataset: DatasetDetail, version: ResourceVersion): LoadReportView {
  const report = version.loadReport;
  const rows: SummaryRow[] = [
    { key: { text: 'File' }, value: { text: report.file } },
    { key: { text: 'Format' }, value: { text: FORMAT_NAMES[report.format] ?? report.format.toUpperCase() } },
    { key: { text: 'Rows loaded' }, value: { text: `${formatNumber(report.rows)} ${report.rows === 1 ? 'row' : 'rows'}` } },
    { key: { text: 'Columns' }, value: { text: countOf(report.schema.fields.length, 'column') } },
    { key: { text: 'Character encoding' }, value: { text: report.encoding } },
  ];
  if (report.sheet !== null) {
    rows.push({ key: { text: 'Sheet' }, value: { text: report.sheet } });
    rows.push({ key: { text: 'Header' }, value: { text: `Row ${report.header_row} of the sheet` } });
  } else {
    if (report.delimiter !== null) rows.push({ key: { text: 'Delimiter' }, value: { text: delimiterName(report.delimiter) } });
    rows.push({ key: { text: 'Header' }, value: { text: `Line ${report.header_row}` } });
  }
  if (report.title_metadata) rows.push({ key: { text: 'Title above the header' }, value: { text: report.title_metadata } });
  const visibility =
    report.visibility === 'open' ? 'Open: anyone can see and download the data' : `Private: only members of ${dataset.organisation.name} can see the data`;
  rows.push({ key: { text: 'Who can see it' }, value: { text: visibility } });

  const personalData = personalDataFindings(version);
  return {
    rows,
    columns: columnRows(version),
    warnings: report.warnings.map((warning) => warning.message),
    personalData,
    keptPrivate: personalData.length > 0 && report.visibility === 'private',
  };
}
