import { landingRunName, replayRunName } from '../../shared/domain/run';

const partition = (values: Array<[string, string]>) => ({
  values,
  path: values.map(([k, v]) => `${k}=${v}`).join('/'),
});
const day = partition([
  ['year', '2024'],
  ['month', '01'],
  ['day', '15'],
]);

describe('execution names', () => {
  it('reads dataset and partition first, then a hash of the object versions', () => {
    expect(landingRunName('orders', day, ['b/k#v:1'])).toMatch(/^orders-2024-01-15-[0-9a-f]{16}$/);
  });

  it('is the same for the same object versions in any order, and differs for others', () => {
    const a = landingRunName('orders', day, ['x#v:1', 'y#v:2']);

    expect(landingRunName('orders', day, ['y#v:2', 'x#v:1'])).toBe(a);
    expect(landingRunName('orders', day, ['x#v:1', 'y#v:3'])).not.toBe(a);
  });

  it('stays within 80 characters of A-Za-z0-9-_ whatever the partition values', () => {
    const hostile = partition([
      ['region', 'eu west/1 é ☃'],
      ['segment', 'x'.repeat(200)],
    ]);

    const name = landingRunName('a_very_long_dataset_name_for_testing', hostile, ['k#v:1']);

    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(name.startsWith('a_very_long_dataset_name_for_testing-eu_west_1____-')).toBe(true);
  });

  it('names replays by stage and time', () => {
    expect(replayRunName('orders', day, 'silver', new Date('2024-02-01T08:09:10.123Z'))).toBe(
      'orders-2024-01-15-replay-silver-20240201T080910Z',
    );
  });
});
