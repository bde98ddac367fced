-- Complete usage and reasoning models: the part of the prompt a provider served from its cache and the part of the
-- completion spent reasoning (null when the provider did not say), on the message and in the ledger; and what a
-- reasoning model thought, stored beside its answer (never part of it, never sent back as context).
ALTER TABLE chat_message ADD COLUMN cached_tokens INTEGER;
ALTER TABLE chat_message ADD COLUMN reasoning_tokens INTEGER;
ALTER TABLE chat_message ADD COLUMN reasoning TEXT;
ALTER TABLE llm_usage ADD COLUMN cached_tokens INTEGER;
ALTER TABLE llm_usage ADD COLUMN reasoning_tokens INTEGER;
