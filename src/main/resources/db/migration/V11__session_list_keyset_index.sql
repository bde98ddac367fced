-- The session list pages by keyset: ORDER BY updated_at DESC, id DESC (id breaks ties, so a page ends at an exact
-- key) from the previous page's last (updated_at, id). On (user_id, updated_at) alone both databases had to read
-- and sort all of a user's sessions (up to CHAT_MAX_SESSIONS_PER_USER) for each page, since the tie order on id was
-- not in the index; with id in it they walk the index backwards from the cursor and stop after limit + 1 rows. It
-- replaces the old index (same write cost per message: each one moves its session's updated_at), whose every other
-- use - counting a user's sessions - the new one serves as well.
CREATE INDEX ix_chat_session_user_updated ON chat_session (user_id, updated_at, id);
DROP INDEX ix_chat_session_user;
