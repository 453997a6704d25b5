-- Daily revenue per country and currency, over the partition's silver rows (relation `silver`).
-- Keep to SQL that DuckDB and Spark SQL both accept: the local runner and the Glue job run this text.
SELECT
  country,
  currency,
  COUNT(*) AS orders,
  SUM(items) AS items,
  CAST(SUM(amount) AS DECIMAL(14, 2)) AS revenue
FROM silver
WHERE status <> 'cancelled'
GROUP BY country, currency
