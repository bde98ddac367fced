-- Usage per answer: on the message itself, and in a ledger that outlives the deletion of a chat.
ALTER TABLE chat_message ADD COLUMN tokens_estimated BOOLEAN;
ALTER TABLE chat_message ADD COLUMN cost_usd DECIMAL(20, 10);

CREATE TABLE llm_usage (
    message_id        VARCHAR(36)  NOT NULL PRIMARY KEY,
    user_id           VARCHAR(255) NOT NULL,
    session_id        VARCHAR(36)  NOT NULL,
    provider          VARCHAR(32)  NOT NULL,
    model             VARCHAR(200) NOT NULL,
    status            VARCHAR(20)  NOT NULL,
    prompt_tokens     INTEGER      NOT NULL,
    completion_tokens INTEGER      NOT NULL,
    tokens_estimated  BOOLEAN      NOT NULL,
    cost_usd          DECIMAL(20, 10),
    created_at        TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX ix_llm_usage_user_time ON llm_usage (user_id, created_at);
CREATE INDEX ix_llm_usage_time ON llm_usage (created_at);
