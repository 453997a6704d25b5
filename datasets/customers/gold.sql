-- Customers per country and segment in the table's current state (relation `silver`: for a CDC
-- dataset, the latest change of each customer, deleted customers left out).
-- Keep to SQL that DuckDB and Spark SQL both accept: the local runner and the Glue job run this text.
-- Customers without a country or a segment form their own group.
SELECT
  country,
  segment,
  COUNT(*) AS customers
FROM silver
GROUP BY country, segment
