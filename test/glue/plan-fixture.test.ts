import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compilePlan } from '../../shared/domain/sql';
import { shippedRegistry } from '../helpers/registry';

/**
 * The Python tests (glue/tests, including the end-to-end runs on Spark) read the orders plan from a
 * snapshot; it must be what `medallion compile` writes today.
 */
test('glue/tests/fixtures/orders.plan.json is the compiled orders plan', () => {
  // Prepare
  const snapshot: unknown = JSON.parse(
    readFileSync(join(process.cwd(), 'glue', 'tests', 'fixtures', 'orders.plan.json'), 'utf8'),
  );
  // Act
  const compiled: unknown = JSON.parse(JSON.stringify(compilePlan(shippedRegistry().get('orders'))));
  // Assess (on a difference: npx medallion compile --out /tmp/p && cp /tmp/p/orders.json glue/tests/fixtures/orders.plan.json)
  expect(snapshot).toEqual(compiled);
});
