// name: link-status-by-agency-pair
// description: For every pair of agencies that communicated (named in alphabetical order), how many links were broken and how many effective, in how many reviews.
// params:
MATCH (s:Agency)-[l:COMMUNICATION]->(t:Agency)
WITH CASE WHEN s.name <= t.name THEN s.name ELSE t.name END AS agency_a,
     CASE WHEN s.name <= t.name THEN t.name ELSE s.name END AS agency_b,
     l
RETURN agency_a, agency_b,
       count(DISTINCT CASE WHEN l.status = 'broken' THEN l.id END) AS broken,
       count(DISTINCT CASE WHEN l.status = 'effective' THEN l.id END) AS effective,
       count(DISTINCT l.review_id) AS reviews
ORDER BY broken DESC, effective DESC, agency_a, agency_b;
