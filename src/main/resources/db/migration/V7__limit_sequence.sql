-- Counting a user's accepted messages with COUNT(*) read every row of the day (and of the minute) on every admission,
-- under the user's lock: at a heavy user's rate each admission got slower than the last (bench/README.md). Each
-- user's accepted messages now carry a sequence number 1, 2, 3, ... and strictly increasing accepted_at, and the
-- lock row keeps the last of both; a count since T is then last_seq - (seq of the first row at or after T) + 1,
-- one index probe.

ALTER TABLE user_request ADD COLUMN seq BIGINT;

UPDATE user_request SET seq = (
    SELECT COUNT(*) FROM user_request r
    WHERE r.user_id = user_request.user_id
      AND (r.accepted_at < user_request.accepted_at
           OR (r.accepted_at = user_request.accepted_at AND r.id <= user_request.id)));

ALTER TABLE user_limit_lock ADD COLUMN last_seq BIGINT DEFAULT 0 NOT NULL;
ALTER TABLE user_limit_lock ADD COLUMN last_accepted_at TIMESTAMP WITH TIME ZONE;

UPDATE user_limit_lock SET
    last_seq = COALESCE((SELECT MAX(r.seq) FROM user_request r WHERE r.user_id = user_limit_lock.user_id), 0),
    last_accepted_at = (SELECT MAX(r.accepted_at) FROM user_request r WHERE r.user_id = user_limit_lock.user_id);

-- the first row at or after T, in (accepted_at, seq) order, straight from the index
CREATE INDEX ix_user_request_user_time_seq ON user_request (user_id, accepted_at, seq);
DROP INDEX ix_user_request_user_time;
