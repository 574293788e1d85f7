// name: theme-recurrence
// description: Theme by year: how many reviews of each year raise each theme (reviews without a year left out), for themes raised by at least $min_reviews reviews in all; by theme, then year.
// params: min_reviews=1
// defaults: min_reviews=1
MATCH (r:Review)-[:RAISES]->(t:Theme)
WITH t, count(DISTINCT r.id) AS total
WHERE total >= $min_reviews
MATCH (r:Review)-[:RAISES]->(t)
WHERE r.year IS NOT NULL
RETURN t.name AS theme, r.year AS year, count(DISTINCT r.id) AS reviews, total AS all_years
ORDER BY theme, year;
