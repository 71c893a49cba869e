import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { temporaryFolder } from '../../test/helpers/import-fixtures.ts';
import { createLogger } from '../logger.ts';
import { CatalogueService } from './catalogue.service.ts';
import { PLATFORM_SCOPE, PUBLIC_SCOPE } from './catalogue.types.ts';
import { ingestFunctions } from './import.ingest.ts';
import { ImportService } from './import.service.ts';
import type { ImportCheck } from './import.types.ts';
import { columnChangeWarning } from './version-changes.ts';

const OPERATOR = { kind: 'operator', name: 'test' } as const;

/** Keeps any file whose first column is headed "Secret" private, as the personal-data gate does for its findings. */
const secretCheck: ImportCheck = {
  name: 'secret check',
  async run(context) {
    return context.analysis.schema.fields[0]?.title === 'Secret' ? { visibility: 'private' } : undefined;
  },
};

describe('column change warning', () => {
  const schema = (fields: Array<[string, 'string' | 'number' | 'date']>) => ({ fields: fields.map(([name, type]) => ({ name, title: name, type })) });

  test('same columns give none', () => {
    const columns = schema([['supplier', 'string'], ['amount', 'number']]);
    assert.equal(columnChangeWarning({ version: 1, schema: columns }, { version: 2, schema: columns }), null);
  });

  test('names added, removed and retyped columns', () => {
    const warning = columnChangeWarning(
      { version: 4, schema: schema([['supplier', 'string'], ['amount', 'number'], ['paid', 'date']]) },
      { version: 5, schema: schema([['supplier', 'string'], ['amount', 'string'], ['ward', 'string']]) },
    );
    assert.equal(warning?.code, 'columns_changed');
    assert.match(warning!.message, /^Version 5 has different columns from version 4 \(3 columns before, 3 now\): it added ward \(string\); removed paid; changed the type of amount from number to string\./);
  });

  test('whole numbers and numbers match', () => {
    const before = { fields: [{ name: 'amount', title: 'Amount', type: 'number' as const }] };
    const after = { fields: [{ name: 'amount', title: 'Amount', type: 'integer' as const }] };
    assert.equal(columnChangeWarning({ version: 1, schema: before }, { version: 2, schema: after }), null);
  });

  test('long lists are counted', () => {
    const many = schema(Array.from({ length: 12 }, (_, index): [string, 'string'] => [`c${index}`, 'string']));
    const warning = columnChangeWarning({ version: 1, schema: many }, { version: 2, schema: schema([['other', 'string']]) });
    assert.match(warning!.message, /removed c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 and 2 more/);
  });
});

for (const engine of testEngines()) {
  describe(`new version warnings on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let imports: ImportService;
    let catalogue: CatalogueService;
    const folder = temporaryFolder('civic-versions-');

    const csv = (name: string, text: string) => {
      const file = path.join(folder.path, name);
      fs.writeFileSync(file, text);
      return { path: file, filename: name };
    };
    const load = (dataset: string, file: { path: string; filename: string }, visibility?: 'open') =>
      imports.importFile(file, { organisation: 'thurrock-council', dataset, actor: OPERATOR, ...(visibility ? { visibility } : {}) });

    before(async () => {
      handle = await engine.create();
      imports = new ImportService(handle.db, ingestFunctions, createLogger('silent'), [secretCheck]);
      catalogue = new CatalogueService(handle.db);
    });
    after(async () => {
      await handle.drop();
      folder.remove();
    });

    test('changed columns are warned about', async () => {
      const first = await load('spending', csv('v1.csv', 'Supplier,Amount,Paid\nAcme,10.5,2025-04-01\nBolt,20,2025-04-02\n'), 'open');
      assert.deepEqual(first.warnings, []);
      const same = await load('spending', csv('v2.csv', 'Supplier,Amount,Paid\nCog,30,2025-05-01\n'));
      assert.deepEqual(same.warnings.map((warning) => warning.code), []);
      const changed = await load('spending', csv('v3.csv', 'Supplier,Ward\nCog,Grays\n'));
      assert.equal(changed.visibility, 'open');
      const warning = changed.warnings.find((candidate) => candidate.code === 'columns_changed');
      assert.ok(warning, JSON.stringify(changed.warnings));
      assert.match(warning.message, /Version 3 has different columns from version 2 \(3 columns before, 2 now\): it added ward \(string\); removed amount, paid\./);
      const stored = await catalogue.currentResource(PLATFORM_SCOPE, 'spending');
      assert.ok(stored?.loadReport.warnings.some((candidate) => candidate.code === 'columns_changed'), 'the stored report keeps the warning');
    });

    test('same file again is warned about', async () => {
      const text = 'Supplier,Amount\nAcme,10.50\nBolt,20\n';
      const first = await load('repeated', csv('april.csv', text));
      assert.equal(first.warnings.some((candidate) => candidate.code === 'same_file_as_current_version'), false);
      const again = await load('repeated', csv('april-again.csv', text));
      const warning = again.warnings.find((candidate) => candidate.code === 'same_file_as_current_version');
      assert.ok(warning, JSON.stringify(again.warnings));
      assert.match(warning.message, /^Version 2 is the same file as version 1, byte for byte/);
      const changed = await load('repeated', csv('may.csv', `${text}Cog,30\n`));
      assert.equal(changed.warnings.some((candidate) => candidate.code === 'same_file_as_current_version'), false);
    });

    test('open dataset made private is reported', async () => {
      await load('referrals', csv('open.csv', 'Ward,Count\nGrays,4\n'), 'open');
      const report = await load('referrals', csv('secret.csv', 'Secret,Count\nname,4\n'));
      assert.equal(report.visibility, 'private');
      assert.equal(report.previous_visibility, 'open');
      const warning = report.warnings.find((candidate) => candidate.code === 'dataset_no_longer_public');
      assert.ok(warning, JSON.stringify(report.warnings));
      assert.match(warning.message, /^Dataset "referrals" was open, but the secret check kept version 2 private, so the whole dataset, earlier versions included, is no longer public\./);
      assert.match(warning.message, /civic publish referrals/);
      assert.equal(await catalogue.findDataset(PUBLIC_SCOPE, 'referrals'), undefined);
    });

    test('private dataset gets no such warning', async () => {
      await load('private-set', csv('private.csv', 'Ward,Count\nGrays,4\n'));
      const report = await load('private-set', csv('private-secret.csv', 'Secret,Count\nname,4\n'));
      assert.equal(report.warnings.some((candidate) => candidate.code === 'dataset_no_longer_public'), false);
      assert.equal(report.previous_visibility, undefined);
    });
  });
}
