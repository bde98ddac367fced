-- The history read walks a session's messages down (session_id, seq) and no longer looks messages up by exchange_id,
-- so nothing reads ix_chat_message_exchange; each stored message paid for it with an update at a random place in a
-- large index (the exchange ids are UUIDs).
DROP INDEX ix_chat_message_exchange;
