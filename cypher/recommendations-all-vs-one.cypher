// name: recommendations-all-vs-one
// description: Learning points and recommendations by whom they are addressed to: all agencies, one agency, several named agencies, or no agency named; per kind, with the number of reviews.
// params:
// ADDRESSED_TO always ends at an Agency: without a label on the far end Neo4j reads the
// count from the node's degree instead of walking the relationships.
MATCH (lp:LearningPoint)
WITH lp.kind AS kind, lp.review_id AS review_id, lp.all_agencies AS all_agencies,
     COUNT { MATCH (lp)-[:ADDRESSED_TO]->() } AS agencies
WITH kind, review_id,
     CASE
       WHEN all_agencies THEN 'all agencies'
       WHEN agencies = 1 THEN 'one agency'
       WHEN agencies > 1 THEN 'several agencies'
       ELSE 'no agency named'
     END AS addressed_to
RETURN kind, addressed_to, count(*) AS learning_points, count(DISTINCT review_id) AS reviews
ORDER BY kind, addressed_to;
