// name: recommendations-all-vs-one
// description: Learning points and recommendations by whom they are addressed to: all agencies, one agency, several named agencies, or no agency named; per kind, with the number of reviews.
// params:
// One LearningKind node per kind of learning point holds these totals, counted at build (and
// by 'sgraph load' in Neo4j; docs/schema.md, "Totals"), so no learning point is read.
MATCH (k:LearningKind)
UNWIND [
  {addressed_to: 'all agencies', n: k.all_agencies, reviews: k.all_agencies_reviews},
  {addressed_to: 'one agency', n: k.one_agency, reviews: k.one_agency_reviews},
  {addressed_to: 'several agencies', n: k.several_agencies, reviews: k.several_agencies_reviews},
  {addressed_to: 'no agency named', n: k.no_agency, reviews: k.no_agency_reviews}
] AS g
WITH k, g
WHERE g.n > 0
RETURN k.name AS kind, g.addressed_to AS addressed_to, g.n AS learning_points, g.reviews AS reviews
ORDER BY kind, addressed_to;
