// name: theme-recurrence
// description: Theme by year: how many reviews of each year raise each theme (reviews without a year left out), for themes raised by at least $min_reviews reviews in all; by theme, then year.
// params: min_reviews=1
// defaults: min_reviews=1
// A theme's reviews (all years) are a total kept on the theme (docs/schema.md). A review
// raises a theme once (one RAISES), so count(*) counts reviews.
// The walk starts from the reviews with a year (each year read once per review, not once
// per RAISES) and groups by the theme node; the theme's name and total are read for the
// 350-odd groups only. Twice as fast in Neo4j as starting from the themes (42 -> 22 ms
// at 2,000 reviews on a busy machine), a little faster in the embedded store (16 -> 13 ms).
MATCH (r:Review)
WHERE r.year IS NOT NULL
WITH r, r.year AS year
MATCH (r)-[:RAISES]->(t:Theme)
WITH t, year, count(*) AS reviews
WHERE t.reviews >= $min_reviews
RETURN t.name AS theme, year, reviews, t.reviews AS all_years
ORDER BY theme, year;
