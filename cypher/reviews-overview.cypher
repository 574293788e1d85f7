// name: reviews-overview
// description: One row per review (the first $limit by review id): year, type, board and how many agencies, themes, learning points, missed opportunities and broken links it holds.
// params: limit=100
// defaults: limit=100
// The reviews are cut to $limit first, so the counts are made for those reviews only.
MATCH (r:Review)
WITH r
ORDER BY r.id
LIMIT $limit
WITH r,
     COUNT { MATCH (r)-[:INVOLVES]->(:Agency) } AS agencies,
     COUNT { MATCH (r)-[:RAISES]->(:Theme) } AS themes,
     COUNT { MATCH (r)-[:HAS_LEARNING]->(:LearningPoint) } AS learning_points,
     COUNT { MATCH (r)-[:HAS_MISSED_OPPORTUNITY]->(:MissedOpportunity) } AS missed_opportunities
OPTIONAL MATCH (:Agency)-[l:COMMUNICATION]->(:Agency)
WHERE l.review_id = r.id AND l.status = 'broken'
RETURN r.id AS review_id, r.year AS year, r.review_type AS review_type, r.board AS board,
       agencies, themes, learning_points, missed_opportunities, count(l) AS broken_links
ORDER BY review_id;
