// name: review-timeline
// description: A review's timeline: every dated event in date order (then by its place in the text), with the date as written, the days it stands for, its precision, the event's words and the agencies it names.
// params: review_id="Child X"
// date_from and date_to are ISO days (both inclusive), so they sort as text; precision is
// day, month, season, year or range. The walk starts from the review's key. agencies is the
// event's own list (the names in the order the text gives them, joined by "; "), written at
// build: Cypher does not define the order in which collect() gathers values, so a list
// made here would not come out the same every time. The MENTIONS_AGENCY relationships hold
// the same names for queries that walk from an event to its agencies.
MATCH (:Review {id: $review_id})-[:HAS_EVENT]->(e:TimelineEvent)
RETURN e.date_from AS date_from, e.date_to AS date_to, e.date_text AS date_text,
       e.precision AS precision, e.text AS event, e.agencies AS agencies,
       e.section AS section, e.start AS quote_start, e.id AS event_id
ORDER BY date_from, date_to, quote_start, event_id;
