import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDate, sortByTime, timeOrderKeys } from './time-labels.ts';

describe('parseDate', () => {
  test('reads ISO and day-first dates', () => {
    const cases: Array<[string, string]> = [
      ['2025-04-29', '2025-04-29'],
      ['29/04/2025', '2025-04-29'],
      ['29-04-2025', '2025-04-29'],
      ['29.04.2025', '2025-04-29'],
      ['9/4/2025', '2025-04-09'],
      ['29 April 2025', '2025-04-29'],
      ['29 april 2025', '2025-04-29'],
      ['29 Apr 2025', '2025-04-29'],
      ['29th April 2025', '2025-04-29'],
      ['1 Sept 2025', '2025-09-01'],
      ['29 April, 2025', '2025-04-29'],
      ['  29/04/2025 ', '2025-04-29'],
      ['29/02/2024', '2024-02-29'],
    ];
    for (const [text, expected] of cases) assert.equal(parseDate(text), expected, text);
  });

  test('rejects unreal and ambiguous dates', () => {
    for (const text of ['31/02/2025', '29/02/2025', '2025-02-29', '2025-13-01', '00/01/2025', '29/04/25', '04/29/2025', '2025/04/29', '29 Foo 2025', '29 Ma 2025', 'yesterday', '', '0099-01-01', '29/04-2025']) {
      assert.equal(parseDate(text), null, text);
    }
  });
});

describe('time order of labels', () => {
  const sorted = (labels: string[]) => sortByTime(labels, (label) => label);

  test('sorts each form in time order', () => {
    const cases: Array<[string[], string[]]> = [
      [['2026-02', '2026-01', '2026-03'], ['2026-01', '2026-02', '2026-03']],
      [['2026-01-31', '2025-12-01', '2026-01-02'], ['2025-12-01', '2026-01-02', '2026-01-31']],
      [['29/04/2025', '01/05/2025', '14/04/2025'], ['14/04/2025', '29/04/2025', '01/05/2025']],
      [['2026-01-31 09:30:00+00', '2026-01-30 10:00:00+00'], ['2026-01-30 10:00:00+00', '2026-01-31 09:30:00+00']],
      [['March 2026', 'January 2026', 'Feb 2026'], ['January 2026', 'Feb 2026', 'March 2026']],
      [['3/2026', '12/2025'], ['12/2025', '3/2026']],
      [['2026', '2019', '2021'], ['2019', '2021', '2026']],
      [['2024/25', '2022/23', '2023/24'], ['2022/23', '2023/24', '2024/25']],
      [['2012-13', '2011-12'], ['2011-12', '2012-13']],
      [['2024-2025', 'FY2023/24'], ['FY2023/24', '2024-2025']],
      [['Q2 2024', 'Q1 2025', 'Q4 2023'], ['Q4 2023', 'Q2 2024', 'Q1 2025']],
      [['2024 Q3', '2024-Q1', '2023Q4'], ['2023Q4', '2024-Q1', '2024 Q3']],
      [['Q1 2024/25', 'Q4 2023/24'], ['Q4 2023/24', 'Q1 2024/25']],
    ];
    for (const [labels, expected] of cases) assert.deepEqual(sorted(labels), expected, labels.join(', '));
  });

  test('months win over financial years', () => {
    // "2011-12" is December 2011 or the financial year 2011/12; both sort by 2011 first, so either reading keeps order.
    assert.deepEqual(timeOrderKeys(['2011-12', '2011-11']), [2011 * 12 + 11, 2011 * 12 + 10]);
    assert.deepEqual(timeOrderKeys(['2011-12', '2012-13']), [2011, 2012]);
  });

  test('leaves other labels alone', () => {
    for (const labels of [['Highways', '2026'], ['5701', '5702'], ['2026-01', ''], ['2026-01', '2026'], ['2024/26'], ['Q5 2024'], []]) {
      assert.equal(sorted(labels), null, labels.join(', '));
    }
  });
});
