// name: recurring-themes
// description: Themes raised by at least $min_reviews reviews, with the number of reviews and the first and last review year; the most widespread first.
// params: min_reviews=2
// A theme's reviews and their first and last year are totals kept on the theme
// (docs/schema.md); a theme no review raises is left out, as a count over RAISES would.
MATCH (t:Theme)
WHERE t.reviews >= $min_reviews AND t.reviews > 0
RETURN t.name AS theme, t.reviews AS reviews, t.first_year AS first_year, t.last_year AS last_year
ORDER BY reviews DESC, theme;
