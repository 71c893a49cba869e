import { URI_PATTERN, type TransparencySchema } from './transparency-schema.ts';

// Government Procurement Card transactions (Local Government Transparency Code 2015, part 2): every transaction, with
// its date, department, beneficiary, amount, irrecoverable VAT, purpose and merchant category. Field names are the LGA
// template's, as in Trafford Council's LGA-format card file (OrganisationLabel, OrganisationURI, EffectiveDate,
// OrganisationalUnit, BeneficiaryName, PaymentDate, Amount, IrrecoverableVATAmount, Purpose, MerchantCategoryCode,
// CardTransaction); source: Local Government Association, "Local transparency guidance – publishing spending and
// procurement information", version 1.3, June 2015.
export const cardTransactionsSchema: TransparencySchema = {
  name: 'card-transactions',
  title: 'Government Procurement Card transactions',
  schema: {
    fields: [
      { name: 'OrganisationLabel', title: 'OrganisationLabel', type: 'string', constraints: { required: true } },
      { name: 'OrganisationURI', title: 'OrganisationURI', type: 'string', constraints: { pattern: URI_PATTERN } },
      { name: 'EffectiveDate', title: 'EffectiveDate', type: 'date' },
      { name: 'OrganisationalUnit', title: 'OrganisationalUnit', type: 'string', constraints: { required: true } },
      { name: 'BeneficiaryName', title: 'BeneficiaryName', type: 'string', constraints: { required: true } },
      { name: 'PaymentDate', title: 'PaymentDate', type: 'date', constraints: { required: true } },
      { name: 'Amount', title: 'Amount', type: 'number', constraints: { required: true } },
      { name: 'IrrecoverableVATAmount', title: 'IrrecoverableVATAmount', type: 'number', constraints: { required: true, minimum: 0 } },
      { name: 'Purpose', title: 'Purpose', type: 'string', constraints: { required: true } },
      { name: 'MerchantCategoryCode', title: 'MerchantCategoryCode', type: 'string', constraints: { required: true, pattern: '^[0-9]{4}$' } },
      { name: 'CardTransaction', title: 'CardTransaction', type: 'string' },
    ],
  },
};
