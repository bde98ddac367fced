-- The counts of a gateway that keeps the per-user limits in its own memory (LocalLimitLedger: an embedded H2, or
-- CHAT_LIMITS_SHARED=false): one row per user, rewritten by its background writer every 200 ms for the users who sent
-- something since, instead of one user_request row per accepted message. A user_request row went into three indexes,
-- one of them ordered by user, so every accepted message rewrote a page somewhere in an index that grows with two days
-- of messages - the largest single cost of a /v1 chat on H2 (bench/README.md, fix 43). This table holds one row per
-- user who sent anything in the last two days, small enough to stay in the database's page cache.
--   day_start, day_count  today's accepted messages (a later day counts from zero)
--   last_seq, last_accepted_at  the user's sequence and newest accepted time, continued from user_request's
--   recent  the last minute's accepted messages per second, "epochSecond:count" joined by ',' (at most 60):
--           a restart restores the minute window to the second, each message at the end of its second
-- The shared ledger (several instances) does not use it: it counts from user_request as before.
CREATE TABLE user_limit_count (
    user_id          VARCHAR(255) NOT NULL PRIMARY KEY,
    day_start        TIMESTAMP WITH TIME ZONE NOT NULL,
    day_count        BIGINT NOT NULL,
    last_seq         BIGINT NOT NULL,
    last_accepted_at TIMESTAMP WITH TIME ZONE NOT NULL,
    recent           VARCHAR(2000) NOT NULL
);
