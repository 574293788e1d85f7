// name: missed-opportunities-by-agency
// description: Agencies by the number of missed opportunities attributed to them, and in how many reviews.
// params:
// Read from the agencies' totals (docs/schema.md, "Totals"): missed_opportunities (their
// MISSED_BY relationships) and missed_reviews are counted once per build (and by
// 'sgraph load' in Neo4j).
MATCH (a:Agency)
WHERE a.missed_opportunities > 0
RETURN a.name AS agency, a.sector AS sector,
       a.missed_opportunities AS missed_opportunities,
       a.missed_reviews AS reviews
ORDER BY missed_opportunities DESC, agency;
