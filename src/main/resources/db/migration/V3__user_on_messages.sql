-- The per-user rate limit and daily quota count a user's messages across sessions (and across instances when
-- they share PostgreSQL).
ALTER TABLE chat_message ADD COLUMN user_id VARCHAR(255);
UPDATE chat_message SET user_id = (SELECT s.user_id FROM chat_session s WHERE s.id = chat_message.session_id);
CREATE INDEX ix_chat_message_user_time ON chat_message (user_id, role, created_at);
