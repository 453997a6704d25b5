-- Users active in the last 7 days per platform (relation `silver`: the silver rows of the day and
-- the 6 days before it, gold.window). A distinct count over 7 days is not the sum of 7 daily ones,
-- which is why this model reads the window rather than the days' gold.
-- Keep to SQL that DuckDB and Spark SQL both accept: the local runner and the Glue job run this text.
SELECT
  platform,
  COUNT(DISTINCT user_id) AS active_users,
  COUNT(*) AS sign_ins
FROM silver
GROUP BY platform
