-- Customers per country in the current state (deleted customers are not in it).
SELECT country, COUNT(*) AS customers
FROM silver
GROUP BY country
