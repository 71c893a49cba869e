import { URI_PATTERN, VAT_NUMBER_PATTERN, type TransparencySchema } from './transparency-schema.ts';

// Expenditure exceeding £500 (Local Government Transparency Code 2015, part 2): the Code requires the date, the
// department, the beneficiary, the purpose, the amount, the VAT that cannot be recovered and the merchant category.
// Field names are the LGA spend template's, as LGA-format publications write them (OrganisationLabel, OrganisationURI,
// EffectiveDate, OrganisationalUnit, BeneficiaryName, PaymentDate, Amount, IrrecoverableVATAmount, Purpose); source:
// Local Government Association, "Local transparency guidance – publishing spending and procurement information",
// version 1.3, June 2015. TransactionNumber, BeneficiaryVATRegistrationNumber, ProcurementCategory and ExpenditureCode
// render the guidance's other items in the same style.
export const spendingSchema: TransparencySchema = {
  name: 'spending',
  title: 'Expenditure exceeding £500',
  schema: {
    fields: [
      { name: 'OrganisationLabel', title: 'OrganisationLabel', type: 'string', constraints: { required: true } },
      { name: 'OrganisationURI', title: 'OrganisationURI', type: 'string', constraints: { pattern: URI_PATTERN } },
      { name: 'EffectiveDate', title: 'EffectiveDate', type: 'date' },
      { name: 'PaymentDate', title: 'PaymentDate', type: 'date', constraints: { required: true } },
      { name: 'TransactionNumber', title: 'TransactionNumber', type: 'string' },
      { name: 'OrganisationalUnit', title: 'OrganisationalUnit', type: 'string', constraints: { required: true } },
      { name: 'BeneficiaryName', title: 'BeneficiaryName', type: 'string', constraints: { required: true } },
      { name: 'BeneficiaryVATRegistrationNumber', title: 'BeneficiaryVATRegistrationNumber', type: 'string', constraints: { pattern: VAT_NUMBER_PATTERN } },
      { name: 'Amount', title: 'Amount', type: 'number', constraints: { required: true } },
      { name: 'IrrecoverableVATAmount', title: 'IrrecoverableVATAmount', type: 'number', constraints: { required: true, minimum: 0 } },
      { name: 'Purpose', title: 'Purpose', type: 'string', constraints: { required: true } },
      { name: 'ProcurementCategory', title: 'ProcurementCategory', type: 'string', constraints: { required: true } },
      { name: 'ExpenditureCode', title: 'ExpenditureCode', type: 'string' },
    ],
  },
};
