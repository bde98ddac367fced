-- ix_chat_message_user_time served the per-user limits while they counted chat messages (V3). They count
-- user_request since V4, and no query reads chat_message by user and time any more, yet every stored message still
-- paid for the index: two index updates per chat for nothing (bench/README.md).
DROP INDEX ix_chat_message_user_time;
