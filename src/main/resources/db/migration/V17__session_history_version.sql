-- The version of a session's history: every write that can change what a chat sends as context (the user's message,
-- the finished answer) adds one in the same transaction as the message. An instance that keeps a session's recent
-- messages in memory (ChatStore's SessionHistoryCache) reads this one number with the session's row and uses its copy
-- only while the number is the one it copied at, so a message another instance stored is never missed.
ALTER TABLE chat_session ADD COLUMN history_version BIGINT DEFAULT 0 NOT NULL;
