-- One admission and its release, as the gateway does per chat on the shared ledger (V15/V16), all for one user.
\set slot random(1, 9000000000000000000)
SELECT admitted FROM cobalt_admit_quick('service-account', now(), date_trunc('day', now()), now() - interval '1 minute', 100000000, 100000000, 100000000, 's' || :slot || '-' || :client_id, 'pgbench', now() + interval '60 seconds');
SELECT cobalt_release_quick('s' || :slot || '-' || :client_id);
