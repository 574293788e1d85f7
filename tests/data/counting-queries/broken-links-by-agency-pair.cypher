// name: broken-links-by-agency-pair
// description: Broken communication links grouped by the pair of agencies (named in alphabetical order), the most frequent pair first; one row per link with its review, direction and quote: the first $limit links.
// params: limit=100
// defaults: limit=100
// 1. Count the broken links of every pair (one pass over the broken links).
MATCH (s:Agency)-[l:COMMUNICATION]->(t:Agency)
WHERE l.status = 'broken'
WITH CASE WHEN s.name <= t.name THEN s.name ELSE t.name END AS agency_a,
     CASE WHEN s.name <= t.name THEN t.name ELSE s.name END AS agency_b,
     count(l) AS pair_breakdowns
// 2. Keep the pairs that reach the first $limit rows: fewer than $limit links in the
//    pairs ranked before them (more links first, then by name).
WITH collect({a: agency_a, b: agency_b, n: pair_breakdowns}) AS pairs
UNWIND pairs AS p
UNWIND pairs AS o
WITH p, sum(CASE WHEN o.n > p.n OR (o.n = p.n AND (o.a < p.a OR (o.a = p.a AND o.b < p.b))) THEN o.n ELSE 0 END) AS before
WHERE before < $limit
// 3. Their links, in both directions, walked from the two agencies.
UNWIND [{f: p.a, t: p.b}, {f: p.b, t: p.a}] AS way
MATCH (s:Agency {name: way.f})-[l:COMMUNICATION]->(t:Agency {name: way.t})
WHERE l.status = 'broken'
WITH p.a AS agency_a, p.b AS agency_b, p.n AS pair_breakdowns, s, t, l
ORDER BY pair_breakdowns DESC, agency_a, agency_b, l.review_id, l.id
LIMIT $limit
MATCH (r:Review {id: l.review_id})
RETURN agency_a, agency_b, pair_breakdowns,
       s.name AS from_agency, t.name AS to_agency,
       r.id AS review_id, r.year AS year, l.id AS link_id, l.quote AS quote
ORDER BY pair_breakdowns DESC, agency_a, agency_b, review_id, link_id;
