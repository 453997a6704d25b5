import type { OrderRow } from '../../local/sample';

/** One valid `orders` row (partition 2024-01-15), with `over` applied. */
export const order = (id: number, over: Partial<OrderRow> = {}): OrderRow => ({
  order_id: `ORD-${String(id).padStart(8, '0')}`,
  customer_id: 'C000001',
  status: 'paid',
  amount: 10,
  currency: 'EUR',
  country: 'DE',
  items: 1,
  updated_at: '2024-01-15 10:00:00',
  ...over,
});
