// name: pair-evidence
// description: The evidence behind the communication links between two agencies (either direction): status, review and verbatim quote; the first $limit links (by status, then review).
// params: agency_a="GP", agency_b="Children's Social Care", limit=100
// defaults: limit=100
MATCH (s:Agency)-[l:COMMUNICATION]->(t:Agency)
WHERE (s.name = $agency_a AND t.name = $agency_b)
   OR (s.name = $agency_b AND t.name = $agency_a)
WITH s, l, t
ORDER BY l.status, l.review_id, l.id
LIMIT $limit
MATCH (r:Review {id: l.review_id})
RETURN l.status AS status, s.name AS from_agency, t.name AS to_agency,
       r.id AS review_id, r.year AS year, l.id AS link_id, l.section AS section,
       l.quote AS quote
ORDER BY status, review_id, link_id;
