import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  containsEmailAddress,
  containsFullPostcode,
  containsNationalInsuranceNumber,
  containsPaymentCardNumber,
  containsSortCodeAndAccount,
  containsUkPhoneNumber,
  findSeparatedNhsNumbers,
  generalisePostcodes,
  isValidNhsNumber,
  passesLuhn,
  yearOfDate,
} from './identifiers.ts';
import { isCreditorTypeHeader, isIndividualCreditorType, isPayeeHeader, looksLikeTitledIndividual } from './names.ts';

describe('NHS numbers', () => {
  it('accepts a valid check digit', () => {
    assert.equal(isValidNhsNumber('9434765919'), true);
    assert.equal(isValidNhsNumber('4010232137'), true);
  });
  it('rejects a wrong check digit', () => assert.equal(isValidNhsNumber('9434765918'), false));
  it('rejects a computed check digit of 10', () => {
    // 100000001 weighs to remainder 1, so its check digit would be 10 whatever the last digit.
    for (let last = 0; last <= 9; last += 1) assert.equal(isValidNhsNumber(`100000001${last}`), false);
  });
  it('finds spaced and dashed forms', () => {
    assert.equal(findSeparatedNhsNumbers('ref 943 476 5919 seen'), 1);
    assert.equal(findSeparatedNhsNumbers('943-476-5919'), 1);
    assert.equal(findSeparatedNhsNumbers('943 476-5919'), 0, 'mixed separators are not the 3-3-4 form');
    assert.equal(findSeparatedNhsNumbers('1943 476 5919'), 0, 'a longer digit run is not an NHS number');
  });
});

describe('National Insurance numbers', () => {
  it('accepts allocated prefixes', () => {
    assert.equal(containsNationalInsuranceNumber('AB123456C'), true);
    assert.equal(containsNationalInsuranceNumber('NI: ab 12 34 56 d'), true);
  });
  it('rejects forbidden letters and prefixes', () => {
    for (const value of ['DA123456A', 'FA123456A', 'AD123456A', 'QQ123456A', 'AO123456A', 'BG123456A', 'GB123456A', 'NK123456A', 'KN123456A', 'TN123456A', 'NT123456A', 'ZZ123456A']) {
      assert.equal(containsNationalInsuranceNumber(value), false, value);
    }
  });
  it('rejects a suffix after D', () => assert.equal(containsNationalInsuranceNumber('AB123456E'), false));
  it('rejects a run inside a longer code', () => assert.equal(containsNationalInsuranceNumber('XAB123456C9'), false));
});

describe('contact details', () => {
  it('finds email addresses', () => {
    assert.equal(containsEmailAddress('write to jane.doe@example.org today'), true);
    assert.equal(containsEmailAddress('@thurrock'), false);
    assert.equal(containsEmailAddress('name at example dot org'), false);
  });
  it('finds UK landlines and mobiles in their spacings', () => {
    for (const value of ['07700 900123', '07700900123', '+44 7700 900123', '+447700900123', '+44 (0)20 7946 0958', '020 7946 0958', '(01632) 960123', '01632 960123', '0161-496-0000']) {
      assert.equal(containsUkPhoneNumber(value), true, value);
    }
  });
  it('ignores freephone, decimals and codes', () => {
    for (const value of ['0800 123 4567', '212566.02000000002', 'CMC07919000059A', '0001337928', '12345678901']) {
      assert.equal(containsUkPhoneNumber(value), false, value);
    }
  });
});

describe('postcodes', () => {
  it('finds full postcodes only', () => {
    assert.equal(containsFullPostcode('RM17 6SL'), true);
    assert.equal(containsFullPostcode('sw1a1aa'), true);
    assert.equal(containsFullPostcode('Town Gate Farm (M41 6ER)'), true);
    assert.equal(containsFullPostcode('RM17'), false);
    assert.equal(containsFullPostcode('LS12 88T'), false);
    assert.equal(containsFullPostcode('NE82'), false);
  });
  it('generalises to the sector', () => {
    assert.equal(generalisePostcodes('RM17 6SL'), 'RM17 6');
    assert.equal(generalisePostcodes('rm176sl'), 'RM17 6');
    assert.equal(generalisePostcodes('12 High St, SW1A 1AA'), '12 High St, SW1A 1');
    assert.equal(generalisePostcodes('RM17'), 'RM17');
  });
});

describe('payment cards and bank details', () => {
  it('needs a Luhn pass and a scheme range', () => {
    assert.equal(passesLuhn('4111111111111111'), true);
    assert.equal(containsPaymentCardNumber('4111 1111 1111 1111'), true);
    assert.equal(containsPaymentCardNumber('5555-5555-5555-4444'), true);
    assert.equal(containsPaymentCardNumber('378282246310005'), true);
    assert.equal(containsPaymentCardNumber('4111 1111 1111 1112'), false, 'Luhn fails');
    assert.equal(containsPaymentCardNumber('1234567812345670'), false, 'Luhn passes but no scheme starts with 1');
  });
  it('needs a sort code with an account number', () => {
    assert.equal(containsSortCodeAndAccount('40-47-84 71234567'), true);
    assert.equal(containsSortCodeAndAccount('40-47-84'), false);
    assert.equal(containsSortCodeAndAccount('order 12-34-56'), false);
  });
});

describe('dates of birth', () => {
  it('reads ISO and UK dates', () => {
    assert.equal(yearOfDate('1984-03-12'), 1984);
    assert.equal(yearOfDate('12/03/1984'), 1984);
    assert.equal(yearOfDate('31/02/1984'), null);
    assert.equal(yearOfDate('1984'), null);
  });
});

describe('individual payees', () => {
  it('recognises titles first or last', () => {
    for (const value of ['CAMERON ROBERT MR', 'DR SARAH SAUNDERS', 'MR I WESTCOTT', 'Mrs. A. Patel', 'GOUGH ANNA DR', 'REES JAMES MR']) {
      assert.equal(looksLikeTitledIndividual(value), true, value);
    }
  });
  it('leaves organisations with a title word alone', () => {
    for (const value of ['DR JHETAM LIMITED', 'MR BIG & SONS', 'DR SMITH & PARTNERS', 'MS SOCIETY', 'REV PROPERTIES LLP', 'SIR JOHN HUNT COMMUNITY SPORTS', "MR C'S", 'DRAKE ESTATES', 'MR']) {
      assert.equal(looksLikeTitledIndividual(value), false, value);
    }
  });
  it('reads creditor types exactly', () => {
    assert.equal(isIndividualCreditorType('SOLE'), true);
    assert.equal(isIndividualCreditorType(' sole trader '), true);
    assert.equal(isIndividualCreditorType('INDV'), true);
    assert.equal(isIndividualCreditorType('DCC Business Entities (Sole Trade, Partnership, Ltd)'), false);
  });
  it('tells payee headers from codes', () => {
    assert.equal(isPayeeHeader('Supplier Name'), true);
    assert.equal(isPayeeHeader('BeneficiaryName'), true);
    assert.equal(isPayeeHeader('Name'), true);
    assert.equal(isPayeeHeader('Supplier ID'), false);
    assert.equal(isPayeeHeader('Name of Body'), false);
    assert.equal(isPayeeHeader('MerchantCategoryCode'), false);
    assert.equal(isCreditorTypeHeader('Creditor Type'), true);
  });
});
