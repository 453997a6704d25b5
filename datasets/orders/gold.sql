-- Daily revenue per country and currency, over the partition's silver rows (relation `silver`).
-- Keep to SQL that DuckDB and Spark SQL both accept: the local runner and the Glue job run this text.
-- NULLs on purpose: `status <> 'cancelled'` alone is NULL, not true, for an order without a status
-- and would drop it; such an order is not cancelled, so it counts. Orders without a country or a
-- currency form their own group; SUM leaves out missing items and amounts, COUNT(*) counts the order.
SELECT
  country,
  currency,
  COUNT(*) AS orders,
  SUM(items) AS items,
  CAST(SUM(amount) AS DECIMAL(14, 2)) AS revenue
FROM silver
WHERE status IS NULL OR status <> 'cancelled'
GROUP BY country, currency
