// name: agency-learning
// description: Everything one agency must learn: learning points addressed to it, missed opportunities attributed to it, and its broken and effective communication links, each with its review and text or quote; the first $limit rows (item, then review).
// params: agency="Health Visiting", limit=100
// defaults: limit=100
// One pattern over three relationship types, so that one ORDER BY covers every row:
// x is a LearningPoint (ADDRESSED_TO), a MissedOpportunity (MISSED_BY) or the other
// Agency of a COMMUNICATION link; properties a node or link does not have are null.
// The rows are ordered and cut to $limit before the review (for its year) is looked up.
MATCH (a:Agency {name: $agency})-[e:ADDRESSED_TO|MISSED_BY|COMMUNICATION]-(x)
WITH e, x,
     CASE
       WHEN e.status IS NOT NULL THEN e.status + ' link'
       WHEN x.kind IS NOT NULL THEN 'learning point'
       ELSE 'missed opportunity'
     END AS item,
     e.review_id AS review_id,
     coalesce(x.id, e.id) AS item_id
ORDER BY item, review_id, item_id
LIMIT $limit
MATCH (r:Review {id: review_id})
RETURN item,
       review_id,
       r.year AS year,
       coalesce(x.kind, x.name, '') AS detail,
       item_id,
       coalesce(x.text, e.quote) AS text
ORDER BY item, review_id, item_id;
