-- 2,000 sessions, one user each, with 20 stored messages (10 questions, 10 complete answers), as the gateway's
-- bench prefills them.
INSERT INTO chat_session (id, user_id, title, system_prompt, created_at, updated_at)
SELECT 'session-' || u, 'user-' || u, 'bench', NULL, now() - interval '1 hour', now() - interval '1 hour'
FROM generate_series(1, 2000) u;
INSERT INTO chat_message (id, session_id, exchange_id, user_id, role, content, status, created_at)
SELECT 'p' || u || '-' || i, 'session-' || u, 'px' || u || '-' || (i / 2), 'user-' || u,
       CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
       CASE WHEN i % 2 = 0 THEN 'An earlier question of this session, about as long as a real one.'
            ELSE 'An earlier answer of this session: a few sentences of text, about as long as a short real answer is.' END,
       'complete', now() - interval '1 hour' + i * interval '1 second'
FROM generate_series(1, 2000) u, generate_series(0, 19) i
ORDER BY i, u;
VACUUM ANALYZE;
