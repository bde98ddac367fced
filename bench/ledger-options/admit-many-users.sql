-- One admission and its release for one of 2,000 users, committed without waiting for the disk (V16).
\set user random(1, 2000)
\set slot random(1, 9000000000000000000)
SELECT admitted FROM cobalt_admit_quick('user-' || :user, now(), date_trunc('day', now()), now() - interval '1 minute', 100000000, 100000000, 100000000, 's' || :slot || '-' || :client_id, 'pgbench', now() + interval '60 seconds');
SELECT cobalt_release_quick('s' || :slot || '-' || :client_id);
