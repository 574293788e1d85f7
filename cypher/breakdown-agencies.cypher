// name: breakdown-agencies
// description: Agencies most often at either end of a broken communication link: how many breakdowns, how many as the sender and as the receiver, in how many reviews.
// params:
MATCH (a:Agency)-[l:COMMUNICATION]-(:Agency)
WHERE l.status = 'broken'
WITH a, count(DISTINCT l.id) AS breakdowns, count(DISTINCT l.review_id) AS reviews
OPTIONAL MATCH (a)-[o:COMMUNICATION]->(:Agency)
WHERE o.status = 'broken'
WITH a, breakdowns, reviews, count(DISTINCT o.id) AS as_sender
OPTIONAL MATCH (a)<-[i:COMMUNICATION]-(:Agency)
WHERE i.status = 'broken'
WITH a, breakdowns, reviews, as_sender, count(DISTINCT i.id) AS as_receiver
RETURN a.name AS agency, a.sector AS sector, breakdowns, as_sender, as_receiver, reviews
ORDER BY breakdowns DESC, agency;
