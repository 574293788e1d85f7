// name: breakdown-agencies
// description: Agencies most often at either end of a broken communication link: how many breakdowns, how many as the sender and as the receiver, in how many reviews.
// params:
// Read from the agencies' totals (docs/schema.md, "Totals"): broken_links, broken_sent and
// broken_reviews are counted once per build (and by 'sgraph load' in Neo4j) instead of
// walking every broken link on every run. as_receiver is the rest: a link never joins an
// agency to itself.
MATCH (a:Agency)
WHERE a.broken_links > 0
RETURN a.name AS agency, a.sector AS sector, a.broken_links AS breakdowns, a.broken_sent AS as_sender,
       a.broken_links - a.broken_sent AS as_receiver, a.broken_reviews AS reviews
ORDER BY breakdowns DESC, agency;
