-- Answers of the OpenAI-compatible API have no session: their usage goes into the ledger without one.
ALTER TABLE llm_usage ALTER COLUMN session_id DROP NOT NULL;
