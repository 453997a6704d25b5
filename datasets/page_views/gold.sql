-- Daily views per page and device, over the partition's silver rows (relation `silver`).
-- Keep to SQL that DuckDB and Spark SQL both accept: the local runner and the Glue job run this text.
-- Views without a device form their own group; SUM leaves out unknown durations, COUNT(*) counts
-- the view, COUNT(DISTINCT ...) the sessions.
SELECT
  page,
  device,
  COUNT(*) AS views,
  COUNT(DISTINCT session_id) AS sessions,
  SUM(duration_ms) AS duration_ms
FROM silver
GROUP BY page, device
