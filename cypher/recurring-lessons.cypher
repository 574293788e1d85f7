// name: recurring-lessons
// description: Learning points with their SIMILAR_TO neighbours in other reviews (cosine score at least $min_score): both reviews and years, both wordings; the most similar pairs first, each pair once from either side.
// params: min_score=0.35, limit=100
// defaults: limit=100
// SIMILAR_TO runs from the lower learning point id to the higher; the pattern ignores the
// direction so that every point is listed with all its neighbours.
// Only a few points' links are read, not every SIMILAR_TO. Every point with a SIMILAR_TO
// holds totals (docs/schema.md): best_score, best_links (how many of its links have that
// score) and best_rank (its place among all points by best_score, then id). A row of a
// point ranked k or better, scored at that point's best, comes before every row of a point
// ranked after k. So once the best_links of the first k points add up to $limit (and the
// k-th point's best is at least $min_score), the first $limit rows all come from those k
// points; k = $limit always does. k is tried at 1, 4, 16, 64 and $limit.
MATCH (p:LearningPoint)
WHERE p.best_rank <= $limit
UNWIND [1, 4, 16, 64, $limit] AS k
WITH p, k
WHERE k <= $limit AND p.best_rank <= k
WITH k, sum(p.best_links) AS rows_at_best, min(p.best_score) AS lowest
WHERE (rows_at_best >= $limit AND lowest >= $min_score) OR k = $limit
WITH min(k) AS k
// The points are gathered (collect) before their links are walked: otherwise Neo4j's
// planner starts from the index on SIMILAR_TO.score and filters half a million links.
MATCH (a:LearningPoint)
WHERE a.best_rank <= k
WITH collect(a) AS points
UNWIND points AS a
MATCH (a)-[s:SIMILAR_TO]-(b:LearningPoint)
WHERE s.score >= $min_score
WITH a, b, s.score AS score
ORDER BY score DESC, a.id, b.id
LIMIT $limit
MATCH (ra:Review)-[:HAS_LEARNING]->(a)
MATCH (rb:Review)-[:HAS_LEARNING]->(b)
RETURN a.id AS point, ra.id AS review_id, ra.year AS year, a.text AS text,
       b.id AS similar_point, rb.id AS similar_review_id, rb.year AS similar_year, b.text AS similar_text,
       score
ORDER BY score DESC, point, similar_point;
