// name: review-subgraph
// description: A review's whole subgraph: every relationship the review contributed, with the label and key of both ends and the quote behind it.
// params: review_id="IN14"
// Two branches, both starting from the review's node (its key):
// - a is the review itself, one of its cases, learning points, missed opportunities or
//   timeline events, or an agency it involves, and x every relationship out of a (but
//   COMMUNICATION) that belongs to the review;
// - the review's communication links: x out of an agency the review involves (every agency
//   at either end of one of its links is one, graph_model/extract.py), with its review_id.
// The second branch is apart so that each engine can take its cheapest way to the links
// from the same text. Neo4j reads them through its index on COMMUNICATION.review_id and
// joins them to the review's agencies: the index is on one type, and the review has to be
// in the same MATCH. Walking out of the agencies, as in one pattern of every type, read
// about 37,000 links of every review at 2,000 reviews (88,000 db hits against 10,000). The embedded store has no relationship index (docs/embedded-engine.md), and
// walks out of the review's agencies as before. Without the review in the pattern
// (()-[x:COMMUNICATION {review_id: ...}]->()), it scans every link instead (340 ms).
// CALL { ... UNION ALL ... } runs in both engines; Neo4j 5 calls a CALL without a scope
// clause deprecated, but FalkorDB cannot parse CALL () { ... }.
CALL {
  MATCH (r:Review {id: $review_id})-[:HAS_CASE|HAS_LEARNING|HAS_MISSED_OPPORTUNITY|HAS_EVENT|INVOLVES*0..1]->(a)
  MATCH (a)-[x:HAS_CASE|INVOLVES|HAS_FAMILY_MEMBER|RAISES|HAS_LEARNING|HAS_MISSED_OPPORTUNITY|ABOUT_THEME|ADDRESSED_TO|MISSED_BY|CONCERNS|HAS_EVENT|MENTIONS_AGENCY]->(b)
  WHERE x.review_id = $review_id
  RETURN a, x, b
  UNION ALL
  MATCH (r:Review {id: $review_id})-[:INVOLVES]->(a:Agency)-[x:COMMUNICATION]->(b)
  WHERE x.review_id = $review_id
  RETURN a, x, b
}
RETURN type(x) AS relationship,
       labels(a)[0] AS from_label, coalesce(a.id, a.name) AS from_key,
       labels(b)[0] AS to_label, coalesce(b.id, b.name) AS to_key,
       x.id AS rel_id,
       coalesce(x.quote, b.quote) AS quote
ORDER BY relationship, rel_id;
