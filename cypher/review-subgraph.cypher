// name: review-subgraph
// description: A review's whole subgraph: every relationship the review contributed, with the label and key of both ends and the quote behind it.
// params: review_id="IN14"
// x.review_id is indexed for every relationship type in both engines (cypher/schema.cypher
// for Neo4j, graph_model/embedded.py for FalkorDB), so the filter below is a set of index seeks.
MATCH (a)-[x:HAS_CASE|INVOLVES|HAS_FAMILY_MEMBER|RAISES|HAS_LEARNING|HAS_MISSED_OPPORTUNITY|ABOUT_THEME|ADDRESSED_TO|MISSED_BY|CONCERNS|COMMUNICATION]->(b)
WHERE x.review_id = $review_id
RETURN type(x) AS relationship,
       labels(a)[0] AS from_label, coalesce(a.id, a.name) AS from_key,
       labels(b)[0] AS to_label, coalesce(b.id, b.name) AS to_key,
       x.id AS rel_id,
       coalesce(x.quote, b.quote) AS quote
ORDER BY relationship, rel_id;
