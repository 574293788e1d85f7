// name: agency-learning
// description: Everything one agency must learn: learning points addressed to it, missed opportunities attributed to it, and its broken and effective communication links, each with its review and text or quote.
// params: agency="Health Visiting"
// One pattern over three relationship types, so that one ORDER BY covers every row:
// x is a LearningPoint (ADDRESSED_TO), a MissedOpportunity (MISSED_BY) or the other
// Agency of a COMMUNICATION link; properties a node or link does not have are null.
MATCH (a:Agency {name: $agency})-[e:ADDRESSED_TO|MISSED_BY|COMMUNICATION]-(x)
MATCH (r:Review)
WHERE r.id = e.review_id
WITH r, e, x,
     CASE
       WHEN e.status IS NOT NULL THEN e.status + ' link'
       WHEN x.kind IS NOT NULL THEN 'learning point'
       ELSE 'missed opportunity'
     END AS item
RETURN item,
       r.id AS review_id,
       r.year AS year,
       coalesce(x.kind, x.name, '') AS detail,
       coalesce(x.id, e.id) AS item_id,
       coalesce(x.text, e.quote) AS text
ORDER BY item, review_id, item_id;
