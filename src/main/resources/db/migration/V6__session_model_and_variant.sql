-- A session talks to one model of the catalog (null: the default model, as for sessions made before the catalog);
-- a session the A/B split chose for keeps its variant, which every answer and the usage ledger record too.
ALTER TABLE chat_session ADD COLUMN model VARCHAR(200);
ALTER TABLE chat_session ADD COLUMN variant VARCHAR(200);
ALTER TABLE chat_message ADD COLUMN variant VARCHAR(200);
ALTER TABLE llm_usage ADD COLUMN variant VARCHAR(200);
