// name: recurring-themes
// description: Themes raised by at least $min_reviews reviews, with the number of reviews and the first and last review year; the most widespread first.
// params: min_reviews=2
MATCH (r:Review)-[:RAISES]->(t:Theme)
WITH t, count(DISTINCT r.id) AS reviews, min(r.year) AS first_year, max(r.year) AS last_year
WHERE reviews >= $min_reviews
RETURN t.name AS theme, reviews, first_year, last_year
ORDER BY reviews DESC, theme;
