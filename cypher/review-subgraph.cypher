// name: review-subgraph
// description: A review's whole subgraph: every relationship the review contributed, with the label and key of both ends and the quote behind it.
// params: review_id="IN14"
// Dialect: Neo4j names labels with labels(n) (a list) and types with type(r); LadybugDB
// uses label(n) and label(r) instead, so cypher/embedded/review-subgraph.cypher is the
// embedded engine's copy of this query.
// In Neo4j, x.review_id is indexed for every relationship type (cypher/schema.cypher), so
// the filter below is a set of index seeks (9 ms on the 2,000-review graph); LadybugDB has
// no such index, so its copy walks out from the review's node instead.
MATCH (a)-[x:HAS_CASE|INVOLVES|HAS_FAMILY_MEMBER|RAISES|HAS_LEARNING|HAS_MISSED_OPPORTUNITY|ABOUT_THEME|ADDRESSED_TO|MISSED_BY|CONCERNS|HAS_EVENT|MENTIONS_AGENCY|COMMUNICATION]->(b)
WHERE x.review_id = $review_id
RETURN type(x) AS relationship,
       labels(a)[0] AS from_label, coalesce(a.id, a.name) AS from_key,
       labels(b)[0] AS to_label, coalesce(b.id, b.name) AS to_key,
       x.id AS rel_id,
       coalesce(x.quote, b.quote) AS quote
ORDER BY relationship, rel_id;
