-- Accepted messages older than two days are deleted periodically (every minute with the in-memory limits, every
-- third of a lease with the shared ones). Without an index on the time alone that DELETE read the whole table each
-- time: 8.8% of the gateway's CPU samples in the bench, with a day's worth of one busy user's messages.
CREATE INDEX ix_user_request_time ON user_request (accepted_at);
