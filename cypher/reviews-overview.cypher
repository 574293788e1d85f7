// name: reviews-overview
// description: One row per review (the first $limit by review id): year, type, board and how many agencies, themes, learning points, missed opportunities and broken links it holds.
// params: limit=100
// defaults: limit=100
// The reviews are cut to $limit first, so the counts are made for those reviews only.
// Each OPTIONAL MATCH is counted before the next one starts, so the counts do not multiply.
// A review's links join two agencies, so no pattern from the review reaches them cheaply:
// the number of its broken links is counted at build and kept on the review (broken_links).
MATCH (r:Review)
WITH r
ORDER BY r.id
LIMIT $limit
OPTIONAL MATCH (r)-[:INVOLVES]->(a:Agency)
WITH r, count(a) AS agencies
OPTIONAL MATCH (r)-[:RAISES]->(t:Theme)
WITH r, agencies, count(t) AS themes
OPTIONAL MATCH (r)-[:HAS_LEARNING]->(lp:LearningPoint)
WITH r, agencies, themes, count(lp) AS learning_points
OPTIONAL MATCH (r)-[:HAS_MISSED_OPPORTUNITY]->(m:MissedOpportunity)
RETURN r.id AS review_id, r.year AS year, r.review_type AS review_type, r.board AS board,
       agencies, themes, learning_points, count(m) AS missed_opportunities, r.broken_links AS broken_links
ORDER BY review_id;
