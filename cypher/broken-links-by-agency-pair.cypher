// name: broken-links-by-agency-pair
// description: Broken communication links grouped by the pair of agencies (named in alphabetical order), the most frequent pair first; one row per link with its review, direction and quote.
// params:
MATCH (s:Agency)-[l:COMMUNICATION]->(t:Agency)
WHERE l.status = 'broken'
WITH CASE WHEN s.name <= t.name THEN s.name ELSE t.name END AS agency_a,
     CASE WHEN s.name <= t.name THEN t.name ELSE s.name END AS agency_b,
     count(l) AS pair_breakdowns
MATCH (s:Agency)-[l:COMMUNICATION]->(t:Agency)
WHERE l.status = 'broken'
  AND ((s.name = agency_a AND t.name = agency_b) OR (s.name = agency_b AND t.name = agency_a))
MATCH (r:Review)
WHERE r.id = l.review_id
RETURN agency_a, agency_b, pair_breakdowns,
       s.name AS from_agency, t.name AS to_agency,
       r.id AS review_id, r.year AS year, l.id AS link_id, l.quote AS quote
ORDER BY pair_breakdowns DESC, agency_a, agency_b, review_id, link_id;
