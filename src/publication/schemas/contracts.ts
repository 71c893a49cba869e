import { URI_PATTERN, VAT_NUMBER_PATTERN, type TransparencySchema } from './transparency-schema.ts';

// Contracts exceeding £5,000 (Local Government Transparency Code 2015, part 2): reference number, title, department,
// description, supplier name and details, value, irrecoverable VAT, start, end and review dates, whether the contract
// followed an invitation to quote or tender, and whether the supplier is an SME or a voluntary or community sector
// organisation with its registration number (source: Local Government Association, "Local transparency guidance –
// publishing spending and procurement information", version 1.3, June 2015, contracts register section).
// NOTE: the field names render the Code's items in the LGA templates' CamelCase style; they are not copied from the
// LGA contracts schema, which was not available when this was written.
export const contractsSchema: TransparencySchema = {
  name: 'contracts',
  title: 'Contracts exceeding £5,000',
  schema: {
    fields: [
      { name: 'OrganisationLabel', title: 'OrganisationLabel', type: 'string', constraints: { required: true } },
      { name: 'OrganisationURI', title: 'OrganisationURI', type: 'string', constraints: { pattern: URI_PATTERN } },
      { name: 'ContractReferenceNumber', title: 'ContractReferenceNumber', type: 'string', constraints: { required: true } },
      { name: 'Title', title: 'Title', type: 'string', constraints: { required: true } },
      { name: 'Description', title: 'Description', type: 'string', constraints: { required: true } },
      { name: 'OrganisationalUnit', title: 'OrganisationalUnit', type: 'string', constraints: { required: true } },
      { name: 'SupplierName', title: 'SupplierName', type: 'string', constraints: { required: true } },
      { name: 'SupplierCompanyNumber', title: 'SupplierCompanyNumber', type: 'string', constraints: { pattern: '^([0-9]{8}|[A-Z]{2}[0-9]{6})$' } },
      { name: 'SupplierCharityNumber', title: 'SupplierCharityNumber', type: 'string', constraints: { pattern: '^[0-9]{6,8}(-[0-9]+)?$' } },
      { name: 'SupplierVATRegistrationNumber', title: 'SupplierVATRegistrationNumber', type: 'string', constraints: { pattern: VAT_NUMBER_PATTERN } },
      { name: 'ContractValue', title: 'ContractValue', type: 'number', constraints: { required: true, minimum: 5000 } },
      { name: 'IrrecoverableVAT', title: 'IrrecoverableVAT', type: 'number', constraints: { minimum: 0 } },
      { name: 'StartDate', title: 'StartDate', type: 'date', constraints: { required: true } },
      { name: 'EndDate', title: 'EndDate', type: 'date', constraints: { required: true } },
      { name: 'ReviewDate', title: 'ReviewDate', type: 'date' },
      { name: 'ProcurementProcess', title: 'ProcurementProcess', type: 'string', constraints: { required: true } },
      { name: 'SupplierSME', title: 'SupplierSME', type: 'boolean' },
      { name: 'SupplierVCSE', title: 'SupplierVCSE', type: 'boolean' },
    ],
  },
};
