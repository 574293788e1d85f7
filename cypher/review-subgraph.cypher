// name: review-subgraph
// description: A review's whole subgraph: every relationship the review contributed, with the label and key of both ends and the quote behind it.
// params: review_id="IN14"
// Starts from the review's node (its key) and walks out: a is the review itself, one of its
// cases, learning points, missed opportunities or timeline events, or an agency it involves
// (every agency at either end of one of its links is one, graph_model/extract.py); x is
// then every relationship out of a that belongs to the review. Filtering every
// relationship on review_id instead is a scan of them all in the embedded store (8 s at
// 2,000 reviews).
MATCH (r:Review {id: $review_id})-[:HAS_CASE|HAS_LEARNING|HAS_MISSED_OPPORTUNITY|HAS_EVENT|INVOLVES*0..1]->(a)
MATCH (a)-[x:HAS_CASE|INVOLVES|HAS_FAMILY_MEMBER|RAISES|HAS_LEARNING|HAS_MISSED_OPPORTUNITY|ABOUT_THEME|ADDRESSED_TO|MISSED_BY|CONCERNS|HAS_EVENT|MENTIONS_AGENCY|COMMUNICATION]->(b)
WHERE x.review_id = r.id
RETURN type(x) AS relationship,
       labels(a)[0] AS from_label, coalesce(a.id, a.name) AS from_key,
       labels(b)[0] AS to_label, coalesce(b.id, b.name) AS to_key,
       x.id AS rel_id,
       coalesce(x.quote, b.quote) AS quote
ORDER BY relationship, rel_id;
