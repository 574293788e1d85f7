// name: recommendations-all-vs-one
// description: Learning points and recommendations by whom they are addressed to: all agencies, one agency, several named agencies, or no agency named; per kind, with the number of reviews.
// params:
// `addressees` on a learning point is the number of its ADDRESSED_TO relationships, kept
// at build time so that this count reads one node per point instead of walking relationships.
MATCH (lp:LearningPoint)
WITH lp.kind AS kind, lp.review_id AS review_id,
     CASE
       WHEN lp.all_agencies THEN 'all agencies'
       WHEN lp.addressees = 1 THEN 'one agency'
       WHEN lp.addressees > 1 THEN 'several agencies'
       ELSE 'no agency named'
     END AS addressed_to
RETURN kind, addressed_to, count(*) AS learning_points, count(DISTINCT review_id) AS reviews
ORDER BY kind, addressed_to;
