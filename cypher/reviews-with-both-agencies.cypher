// name: reviews-with-both-agencies
// description: Reviews in which two given agencies both appear, with how often each is mentioned and the communication links between them in that review.
// params: agency_a="GP", agency_b="Children's Social Care"
MATCH (r:Review)-[ia:INVOLVES]->(a:Agency {name: $agency_a})
MATCH (r)-[ib:INVOLVES]->(b:Agency {name: $agency_b})
OPTIONAL MATCH (a)-[l:COMMUNICATION]-(b)
WHERE l.review_id = r.id
WITH r, ia, ib,
     count(DISTINCT l.id) AS links,
     count(DISTINCT CASE WHEN l.status = 'broken' THEN l.id END) AS broken_links
RETURN r.id AS review_id, r.title AS title, r.year AS year,
       ia.mentions AS mentions_a, ib.mentions AS mentions_b,
       links, broken_links
ORDER BY year, review_id;
