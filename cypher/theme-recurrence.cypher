// name: theme-recurrence
// description: Theme by year: how many reviews of each year raise each theme (reviews without a year left out), for themes raised by at least $min_reviews reviews in all; by theme, then year.
// params: min_reviews=1
// defaults: min_reviews=1
// A theme's reviews (all years) are a total kept on the theme (docs/schema.md). A review
// raises a theme once (one RAISES), so count(r) counts reviews.
MATCH (t:Theme)
WHERE t.reviews >= $min_reviews
MATCH (r:Review)-[:RAISES]->(t)
WHERE r.year IS NOT NULL
RETURN t.name AS theme, r.year AS year, count(r) AS reviews, t.reviews AS all_years
ORDER BY theme, year;
