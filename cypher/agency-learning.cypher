// name: agency-learning
// description: Everything one agency must learn: learning points addressed to it, missed opportunities attributed to it, and its broken and effective communication links, each with its review and text or quote; the first $limit rows (item, then review).
// params: agency="Health Visiting", limit=100
// defaults: limit=100
// The rows come in the order of their item: broken links, effective links, learning
// points, missed opportunities. Each kind is read in turn, ordered and cut to $limit, and
// only while the kinds before it gave fewer than $limit rows (UNWIND [null] then leaves the
// OPTIONAL MATCH nothing to walk): an agency with hundreds of broken links never has its
// thousands of learning points read. The lists are gathered with collect(), then the rows
// are ordered again, so their order does not depend on collect(). The review (for its
// year) is looked up for the rows shown only. x has no label in the link patterns (a
// COMMUNICATION always joins two agencies): with one, Neo4j scans the agencies and expands
// into each of them (three times slower).
MATCH (a:Agency {name: $agency})
OPTIONAL MATCH (a)-[e:COMMUNICATION]-(x)
WHERE e.status = 'broken'
WITH a, e, x
ORDER BY e.review_id, e.id
LIMIT $limit
WITH a, collect(CASE WHEN e IS NOT NULL THEN {item: 'broken link', review_id: e.review_id, detail: x.name, item_id: e.id, text: e.quote} END) AS broken
UNWIND CASE WHEN size(broken) < $limit THEN [a] ELSE [null] END AS more
OPTIONAL MATCH (more)-[e:COMMUNICATION]-(x)
WHERE e.status = 'effective'
WITH a, broken, e, x
ORDER BY e.review_id, e.id
LIMIT $limit
WITH a, broken, collect(CASE WHEN e IS NOT NULL THEN {item: 'effective link', review_id: e.review_id, detail: x.name, item_id: e.id, text: e.quote} END) AS effective
WITH a, broken + effective AS links
UNWIND CASE WHEN size(links) < $limit THEN [a] ELSE [null] END AS more
OPTIONAL MATCH (x:LearningPoint)-[e:ADDRESSED_TO]->(more)
WITH a, links, e, x
ORDER BY e.review_id, x.id
LIMIT $limit
WITH a, links, collect(CASE WHEN e IS NOT NULL THEN {item: 'learning point', review_id: e.review_id, detail: coalesce(x.kind, ''), item_id: x.id, text: x.text} END) AS points
WITH a, links + points AS items
UNWIND CASE WHEN size(items) < $limit THEN [a] ELSE [null] END AS more
OPTIONAL MATCH (x:MissedOpportunity)-[e:MISSED_BY]->(more)
WITH items, e, x
ORDER BY e.review_id, x.id
LIMIT $limit
WITH items, collect(CASE WHEN e IS NOT NULL THEN {item: 'missed opportunity', review_id: e.review_id, detail: '', item_id: x.id, text: x.text} END) AS missed
UNWIND items + missed AS row
WITH row
ORDER BY row.item, row.review_id, row.item_id
LIMIT $limit
MATCH (r:Review {id: row.review_id})
RETURN row.item AS item, row.review_id AS review_id, r.year AS year, row.detail AS detail,
       row.item_id AS item_id, row.text AS text
ORDER BY item, review_id, item_id;
