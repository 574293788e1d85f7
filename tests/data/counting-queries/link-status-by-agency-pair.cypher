// name: link-status-by-agency-pair
// description: For every pair of agencies that communicated (named in alphabetical order), how many links were broken and how many effective, in how many reviews.
// params:
// count(CASE ... THEN 1 END) counts each link once without a DISTINCT over link ids.
MATCH (s:Agency)-[l:COMMUNICATION]->(t:Agency)
WITH CASE WHEN s.name <= t.name THEN s.name ELSE t.name END AS agency_a,
     CASE WHEN s.name <= t.name THEN t.name ELSE s.name END AS agency_b,
     l.status AS status, l.review_id AS review_id
RETURN agency_a, agency_b,
       count(CASE WHEN status = 'broken' THEN 1 END) AS broken,
       count(CASE WHEN status = 'effective' THEN 1 END) AS effective,
       count(DISTINCT review_id) AS reviews
ORDER BY broken DESC, effective DESC, agency_a, agency_b;
