// name: missed-opportunities-by-agency
// description: Agencies by the number of missed opportunities attributed to them, and in how many reviews.
// params:
MATCH (m:MissedOpportunity)-[:MISSED_BY]->(a:Agency)
RETURN a.name AS agency, a.sector AS sector,
       count(DISTINCT m.id) AS missed_opportunities,
       count(DISTINCT m.review_id) AS reviews
ORDER BY missed_opportunities DESC, agency;
