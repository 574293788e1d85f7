// name: missed-opportunities-by-agency
// description: Agencies by the number of missed opportunities attributed to them, and in how many reviews.
// params:
// Counted on the MISSED_BY relationships (one per missed opportunity and agency, carrying
// its review_id), so the missed opportunities' text is never read.
MATCH (:MissedOpportunity)-[x:MISSED_BY]->(a:Agency)
RETURN a.name AS agency, a.sector AS sector,
       count(x) AS missed_opportunities,
       count(DISTINCT x.review_id) AS reviews
ORDER BY missed_opportunities DESC, agency;
