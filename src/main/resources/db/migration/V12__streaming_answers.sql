-- Crash safety: an answer is stored as 'streaming' at its first checkpoint and its text updated every checkpoint
-- interval, so a process that dies mid-stream leaves its partial answer behind. The instance relaying it holds a lease
-- on the row (renewed every checkpoint tick); a row whose lease ran out belongs to a dead instance and is swept to
-- 'interrupted'. Both columns are null once the answer is finished; only streaming rows fall in a lease_until range.
ALTER TABLE chat_message ADD COLUMN instance_id VARCHAR(36);
ALTER TABLE chat_message ADD COLUMN lease_until TIMESTAMP WITH TIME ZONE;
CREATE INDEX ix_chat_message_lease ON chat_message (lease_until);
