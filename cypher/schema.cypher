// name: schema
// description: Constraints and indexes for the safeguarding graph (generated from graph_model/schema.py
// by graph_model.neo4j_store.schema_cypher(); tests check this file against it). 'sgraph load' runs it
// first; it is safe to run again (IF NOT EXISTS). Paste it into Neo4j Browser or run
// cypher-shell -f cypher/schema.cypher.

// One node per key: a uniqueness constraint (and its index) for every label's key.
CREATE CONSTRAINT sgraph_review_id IF NOT EXISTS FOR (n:`Review`) REQUIRE n.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_case_id IF NOT EXISTS FOR (n:`Case`) REQUIRE n.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_agency_name IF NOT EXISTS FOR (n:`Agency`) REQUIRE n.`name` IS UNIQUE;
CREATE CONSTRAINT sgraph_familymember_id IF NOT EXISTS FOR (n:`FamilyMember`) REQUIRE n.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_theme_name IF NOT EXISTS FOR (n:`Theme`) REQUIRE n.`name` IS UNIQUE;
CREATE CONSTRAINT sgraph_learningpoint_id IF NOT EXISTS FOR (n:`LearningPoint`) REQUIRE n.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_missedopportunity_id IF NOT EXISTS FOR (n:`MissedOpportunity`) REQUIRE n.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_timelineevent_id IF NOT EXISTS FOR (n:`TimelineEvent`) REQUIRE n.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_learningkind_name IF NOT EXISTS FOR (n:`LearningKind`) REQUIRE n.`name` IS UNIQUE;

// One relationship per id: the loader MERGEs relationships on their id.
CREATE CONSTRAINT sgraph_rel_has_case_id IF NOT EXISTS FOR ()-[r:`HAS_CASE`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_involves_id IF NOT EXISTS FOR ()-[r:`INVOLVES`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_has_family_member_id IF NOT EXISTS FOR ()-[r:`HAS_FAMILY_MEMBER`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_raises_id IF NOT EXISTS FOR ()-[r:`RAISES`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_has_learning_id IF NOT EXISTS FOR ()-[r:`HAS_LEARNING`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_has_missed_opportunity_id IF NOT EXISTS FOR ()-[r:`HAS_MISSED_OPPORTUNITY`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_about_theme_id IF NOT EXISTS FOR ()-[r:`ABOUT_THEME`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_addressed_to_id IF NOT EXISTS FOR ()-[r:`ADDRESSED_TO`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_missed_by_id IF NOT EXISTS FOR ()-[r:`MISSED_BY`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_concerns_id IF NOT EXISTS FOR ()-[r:`CONCERNS`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_has_event_id IF NOT EXISTS FOR ()-[r:`HAS_EVENT`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_mentions_agency_id IF NOT EXISTS FOR ()-[r:`MENTIONS_AGENCY`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_communication_id IF NOT EXISTS FOR ()-[r:`COMMUNICATION`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_similar_to_id IF NOT EXISTS FOR ()-[r:`SIMILAR_TO`]-() REQUIRE r.`id` IS UNIQUE;
CREATE CONSTRAINT sgraph_rel_linked_with_id IF NOT EXISTS FOR ()-[r:`LINKED_WITH`]-() REQUIRE r.`id` IS UNIQUE;

// A review's own nodes and relationships are found by review_id when it is replaced.
CREATE INDEX sgraph_case_review_id IF NOT EXISTS FOR (n:`Case`) ON (n.`review_id`);
CREATE INDEX sgraph_familymember_review_id IF NOT EXISTS FOR (n:`FamilyMember`) ON (n.`review_id`);
CREATE INDEX sgraph_learningpoint_review_id IF NOT EXISTS FOR (n:`LearningPoint`) ON (n.`review_id`);
CREATE INDEX sgraph_missedopportunity_review_id IF NOT EXISTS FOR (n:`MissedOpportunity`) ON (n.`review_id`);
CREATE INDEX sgraph_timelineevent_review_id IF NOT EXISTS FOR (n:`TimelineEvent`) ON (n.`review_id`);
CREATE INDEX sgraph_rel_has_case_review_id IF NOT EXISTS FOR ()-[r:`HAS_CASE`]-() ON (r.`review_id`);
CREATE INDEX sgraph_rel_involves_review_id IF NOT EXISTS FOR ()-[r:`INVOLVES`]-() ON (r.`review_id`);
CREATE INDEX sgraph_rel_has_family_member_review_id IF NOT EXISTS FOR ()-[r:`HAS_FAMILY_MEMBER`]-() ON (r.`review_id`);
CREATE INDEX sgraph_rel_raises_review_id IF NOT EXISTS FOR ()-[r:`RAISES`]-() ON (r.`review_id`);
CREATE INDEX sgraph_rel_has_learning_review_id IF NOT EXISTS FOR ()-[r:`HAS_LEARNING`]-() ON (r.`review_id`);
CREATE INDEX sgraph_rel_has_missed_opportunity_review_id IF NOT EXISTS FOR ()-[r:`HAS_MISSED_OPPORTUNITY`]-() ON (r.`review_id`);
CREATE INDEX sgraph_rel_about_theme_review_id IF NOT EXISTS FOR ()-[r:`ABOUT_THEME`]-() ON (r.`review_id`);
CREATE INDEX sgraph_rel_addressed_to_review_id IF NOT EXISTS FOR ()-[r:`ADDRESSED_TO`]-() ON (r.`review_id`);
CREATE INDEX sgraph_rel_missed_by_review_id IF NOT EXISTS FOR ()-[r:`MISSED_BY`]-() ON (r.`review_id`);
CREATE INDEX sgraph_rel_concerns_review_id IF NOT EXISTS FOR ()-[r:`CONCERNS`]-() ON (r.`review_id`);
CREATE INDEX sgraph_rel_has_event_review_id IF NOT EXISTS FOR ()-[r:`HAS_EVENT`]-() ON (r.`review_id`);
CREATE INDEX sgraph_rel_mentions_agency_review_id IF NOT EXISTS FOR ()-[r:`MENTIONS_AGENCY`]-() ON (r.`review_id`);
CREATE INDEX sgraph_rel_communication_review_id IF NOT EXISTS FOR ()-[r:`COMMUNICATION`]-() ON (r.`review_id`);

// Loads into one database take turns: each claims the one lock node first (graph_model/neo4j_store.py).
CREATE CONSTRAINT sgraph_load_lock_id IF NOT EXISTS FOR (n:`SgraphLoadLock`) REQUIRE n.`id` IS UNIQUE;

// Indexes the query library filters on.
CREATE INDEX sgraph_rel_communication_status IF NOT EXISTS FOR ()-[r:`COMMUNICATION`]-() ON (r.`status`);
CREATE INDEX sgraph_review_year IF NOT EXISTS FOR (n:`Review`) ON (n.`year`);
CREATE INDEX sgraph_familymember_role IF NOT EXISTS FOR (n:`FamilyMember`) ON (n.`role`);
CREATE INDEX sgraph_learningpoint_kind IF NOT EXISTS FOR (n:`LearningPoint`) ON (n.`kind`);
CREATE INDEX sgraph_learningpoint_best_rank IF NOT EXISTS FOR (n:`LearningPoint`) ON (n.`best_rank`);
