-- One admission and its release, as the gateway does per chat on the shared ledger (V15, every commit waiting for the disk), all for one user.
\set slot random(1, 9000000000000000000)
SELECT admitted FROM cobalt_admit('service-account', now(), date_trunc('day', now()), now() - interval '1 minute', 100000000, 100000000, 100000000, 's' || :slot || '-' || :client_id, 'pgbench', now() + interval '60 seconds');
DELETE FROM active_stream WHERE id = 's' || :slot || '-' || :client_id;
