SELECT s, COUNT(*) AS rows_, SUM(dec) AS dec_sum, SUM(n) AS n_sum
FROM silver
GROUP BY s
