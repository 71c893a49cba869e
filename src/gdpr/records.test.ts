import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildOrganisation, buildUser, memberAuth, signedInClient } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { buildApp } from '../http/app.ts';
import { listSheets } from '../ingest/index.ts';
import { readOdsSheet } from '../ingest/workbook-ods.ts';
import type { Services } from '../services.ts';
import { parseDpia } from './dpia.service.ts';
import { insertActiveAgreement, insertDataset } from './gdpr.test-support.ts';

async function readOdsRows(buffer: Buffer): Promise<string[][]> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'civic-ropa-')), 'record.ods');
  fs.writeFileSync(file, buffer);
  const source = { path: file, filename: 'record.ods' };
  const sheets = await listSheets(source);
  assert.deepEqual(sheets.map((sheet) => sheet.name), ['Record of processing']);
  const rows: string[][] = [];
  for await (const batch of readOdsSheet(source, 'Record of processing')) rows.push(...batch.map((record) => record.cells));
  fs.rmSync(path.dirname(file), { recursive: true });
  return rows;
}

for (const engine of testEngines()) {
  describe(`record of processing and DPIAs (${engine.name})`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let council: string;
    let dpoId: string;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      council = (await buildOrganisation(handle.db, { slug: 'thurrock-council' })).id;
      const trust = (await buildOrganisation(handle.db, { slug: 'basildon-trust' })).id;
      const police = (await buildOrganisation(handle.db, { slug: 'essex-police' })).id;
      dpoId = (await buildUser(handle.db, { email: 'dpo@thurrock.example', member: { organisationId: council, role: 'data_protection_officer' } })).id;
      const dataset = await insertDataset(handle.db, council, 'adult-social-care', 'Adult social care clients');
      await insertActiveAgreement(handle.db, { reference: 'THR-ISA-2026-001', provider: council, recipients: [trust], datasetId: dataset, approverUserId: dpoId, retentionMonths: 24 });
      await insertActiveAgreement(handle.db, { reference: 'THR-ISA-2026-002', provider: council, recipients: [police], datasetId: dataset, approverUserId: dpoId, retentionMonths: 6, purposes: ['safeguarding', 'crime_prevention'] });
    });

    after(async () => {
      await handle.drop();
    });

    it('downloads the record as CSV and ODS', async () => {
      const app = await buildApp(services);
      try {
        const dpo = await signedInClient(app, services, dpoId, council);
        const csv = await dpo.get('/privacy/record-of-processing.csv');
        assert.equal(csv.statusCode, 200);
        assert.match(String(csv.headers['content-type']), /text\/csv/);
        const lines = csv.body.trimEnd().split('\r\n');
        assert.equal(lines.length, 3);
        assert.match(lines[0]!, /^Controller,Controller contact,Agreement reference/);
        assert.match(lines[1]!, /THR-ISA-2026-001/);
        assert.match(lines[1]!, /Direct care; Coordinating care after hospital discharge/);
        assert.match(lines[1]!, /Organisation basildon-trust/);
        assert.match(lines[1]!, /24 months: Then securely destroyed/);
        assert.match(lines[2]!, /Safeguarding; Crime and disorder reduction/);
        assert.match(lines[2]!, /Organisation essex-police/);
        assert.match(lines[2]!, /6 months/);

        const ods = await dpo.get('/privacy/record-of-processing.ods');
        assert.equal(ods.statusCode, 200);
        assert.equal(ods.headers['content-type'], 'application/vnd.oasis.opendocument.spreadsheet');
        // The first zip entry is `mimetype`, stored (method 0), so its content follows the 38-byte local header.
        assert.equal(ods.rawPayload.readUInt32LE(0), 0x04034b50);
        assert.equal(ods.rawPayload.readUInt16LE(8), 0);
        assert.equal(ods.rawPayload.subarray(30, 38).toString('ascii'), 'mimetype');
        assert.equal(ods.rawPayload.subarray(38, 38 + 46).toString('ascii'), 'application/vnd.oasis.opendocument.spreadsheet');
        const rows = await readOdsRows(ods.rawPayload);
        assert.equal(rows.length, 3);
        const column = (name: string) => rows[0]!.indexOf(name);
        assert.equal(rows[1]![column('Agreement reference')], 'THR-ISA-2026-001');
        assert.equal(rows[1]![column('Recipients')], 'Organisation basildon-trust');
        assert.equal(rows[1]![column('Retention')], '24 months: Then securely destroyed');
        assert.equal(rows[2]![column('Purposes of processing')], 'Safeguarding; Crime and disorder reduction; Coordinating care after hospital discharge');
        assert.equal(rows[2]![column('Transfers outside the UK')], 'None outside the UK');
        assert.equal(rows[1]![column('Categories of personal data')], 'Adult social care clients: nhs_number, care_package');
        assert.match(rows[1]![column('Controller contact')]!, /dpo@thurrock\.example/);

        const analyst = (await buildUser(handle.db, { member: { organisationId: council, role: 'analyst' } })).id;
        assert.equal((await (await signedInClient(app, services, analyst, council)).get('/privacy/record-of-processing.ods')).statusCode, 403);
      } finally {
        await app.close();
      }
    });

    it('validates a DPIA with every error', () => {
      assert.throws(
        () => parseDpia({ description: '', necessity: ' ', risks: [{ description: 'Re-identification', likelihood: 'likely', severity: '', mitigation: '' }], residualRisk: 'none' }),
        (error: { fields: Array<{ field: string }> }) => {
          assert.deepEqual(error.fields.map((field) => field.field), ['description', 'necessity', 'risks[0].likelihood', 'risks[0].severity', 'risks[0].mitigation', 'residualRisk']);
          return true;
        },
      );
      assert.throws(() => parseDpia({ description: 'x', necessity: 'y', risks: [], residualRisk: 'low' }), /Enter at least one risk/);
    });

    it('stores a DPIA from the form', async () => {
      const app = await buildApp(services);
      try {
        const dpo = await signedInClient(app, services, dpoId, council);
        const form = await dpo.get('/agreements/THR-ISA-2026-001/dpia');
        assert.equal(form.statusCode, 200);
        assert.match(form.body, /has no DPIA yet/);
        const invalid = await dpo.post('/agreements/THR-ISA-2026-001/dpia', { description: 'Care records to the trust', necessity: '', 'risks[0].description': 'Re-identification', residualRisk: 'low' });
        assert.equal(invalid.statusCode, 400);
        assert.match(invalid.body, /govuk-error-summary/);
        assert.match(invalid.body, /href="#necessity">Enter why the processing is necessary and proportionate/);
        assert.match(invalid.body, /href="#risks-0--likelihood">Select the likelihood of risk 1/);
        assert.match(invalid.body, /Care records to the trust/);

        const saved = await dpo.post('/agreements/THR-ISA-2026-001/dpia', {
          description: 'Care records to the trust',
          necessity: 'Discharge planning needs the package details',
          'risks[0].description': 'Re-identification from care package',
          'risks[0].likelihood': 'possible',
          'risks[0].severity': 'significant',
          'risks[0].mitigation': 'NHS number pseudonymised',
          residualRisk: 'low',
        });
        assert.equal(saved.statusCode, 303);
        const dpias = await handle.db.owner.selectFrom('dpias').selectAll().execute();
        assert.equal(dpias.length, 1);
        assert.deepEqual(dpias[0]!.risks, [{ description: 'Re-identification from care package', likelihood: 'possible', severity: 'significant', mitigation: 'NHS number pseudonymised' }]);
        assert.equal(dpias[0]!.signed_off_by, dpoId);
        const shown = await dpo.get(String(saved.headers.location));
        assert.match(shown.body, /DPIA saved and signed off/);
        assert.match(shown.body, /Re-identification from care package/);
        const audit = await handle.db.owner.selectFrom('audit_log').select('action').where('subject_type', '=', 'dpia').execute();
        assert.deepEqual(audit.map((row) => row.action), ['dpia.created']);

        const token = await services.tokens.create(memberAuth(dpoId, council, 'data_protection_officer'), { name: 'dpo', scopes: ['read', 'write'] });
        const read = await app.inject({ method: 'GET', url: '/api/v1/agreements/THR-ISA-2026-001/dpia', headers: { authorization: `Bearer ${token.token}` } });
        assert.equal(read.statusCode, 200, read.body);
        assert.equal((read.json() as { residualRisk: string }).residualRisk, 'low');
        const missing = await app.inject({ method: 'GET', url: '/api/v1/agreements/NO-SUCH-ISA/dpia', headers: { authorization: `Bearer ${token.token}` } });
        assert.equal(missing.statusCode, 404);
        const bad = await app.inject({ method: 'PUT', url: '/api/v1/agreements/THR-ISA-2026-002/dpia', headers: { authorization: `Bearer ${token.token}` }, payload: { description: 'x', necessity: 'y', risks: [], residualRisk: 'low' } });
        assert.equal(bad.statusCode, 400);
        assert.match(bad.body, /Enter at least one risk/);
      } finally {
        await app.close();
      }
    });
  });
}
