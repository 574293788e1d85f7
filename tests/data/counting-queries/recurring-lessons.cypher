// name: recurring-lessons
// description: Learning points with their SIMILAR_TO neighbours in other reviews (cosine score at least $min_score): both reviews and years, both wordings; the most similar pairs first, each pair once from either side.
// params: min_score=0.35, limit=100
// defaults: limit=100
// SIMILAR_TO runs from the lower learning point id to the higher; the pattern ignores the
// direction so that every point is listed with all its neighbours. Ordered and cut first,
// then the reviews are looked up for the rows shown.
MATCH (a:LearningPoint)-[s:SIMILAR_TO]-(b:LearningPoint)
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
