-- One admission of a user is one statement: the shared limits' checks and records run inside the database, so the
-- user's lock row is held for the function's own few index probes instead of six client round trips. One service
-- account calling /v1 with one key (the common case) was capped at a few hundred admissions a second across all
-- instances together (bench/README.md). The counting is the same as SharedLimitLedger's (V7): a count since T is
-- last_seq minus the seq of the first row at or after T, plus one.
CREATE OR REPLACE FUNCTION cobalt_admit(p_user VARCHAR, p_now TIMESTAMPTZ, p_day_start TIMESTAMPTZ,
                                        p_window_start TIMESTAMPTZ, p_per_day BIGINT, p_per_minute BIGINT,
                                        p_max_streams INTEGER, p_slot VARCHAR, p_instance VARCHAR,
                                        p_lease_until TIMESTAMPTZ)
    RETURNS TABLE (admitted BOOLEAN, today BIGINT, in_window BIGINT, oldest TIMESTAMPTZ, streams BIGINT)
    LANGUAGE plpgsql AS
$$
DECLARE
    v_last_seq      BIGINT;
    v_last_at       TIMESTAMPTZ;
    v_first_today   BIGINT;
    v_first_win     BIGINT;
    v_first_win_at  TIMESTAMPTZ;
    v_accepted      TIMESTAMPTZ;
BEGIN
    SELECT l.last_seq, l.last_accepted_at INTO v_last_seq, v_last_at
    FROM user_limit_lock l WHERE l.user_id = p_user FOR UPDATE;
    IF NOT FOUND THEN
        -- another instance may create the row at the same moment; either insert will do
        INSERT INTO user_limit_lock (user_id, last_seq, last_accepted_at)
        VALUES (p_user, COALESCE((SELECT MAX(r.seq) FROM user_request r WHERE r.user_id = p_user), 0),
                (SELECT MAX(r.accepted_at) FROM user_request r WHERE r.user_id = p_user))
        ON CONFLICT (user_id) DO NOTHING;
        SELECT l.last_seq, l.last_accepted_at INTO v_last_seq, v_last_at
        FROM user_limit_lock l WHERE l.user_id = p_user FOR UPDATE;
    END IF;

    SELECT r.seq INTO v_first_today FROM user_request r
    WHERE r.user_id = p_user AND r.accepted_at >= p_day_start
    ORDER BY r.user_id, r.accepted_at, r.seq LIMIT 1;
    today := CASE WHEN v_first_today IS NULL THEN 0 ELSE v_last_seq - v_first_today + 1 END;

    SELECT r.seq, r.accepted_at INTO v_first_win, v_first_win_at FROM user_request r
    WHERE r.user_id = p_user AND r.accepted_at > p_window_start
    ORDER BY r.user_id, r.accepted_at, r.seq LIMIT 1;
    in_window := CASE WHEN v_first_win IS NULL THEN 0 ELSE v_last_seq - v_first_win + 1 END;
    oldest := COALESCE(v_first_win_at, p_now);

    -- stops counting at the limit: a user with many open streams does not make every admission read them all
    SELECT COUNT(*) INTO streams FROM (
        SELECT 1 FROM active_stream a WHERE a.user_id = p_user AND a.lease_until > p_now
        LIMIT GREATEST(1, p_max_streams)) s;

    IF today >= p_per_day OR in_window >= p_per_minute OR streams >= p_max_streams THEN
        admitted := FALSE;
        RETURN NEXT;
        RETURN;
    END IF;

    -- strictly after the user's previous message, even if this instance's clock is behind another's
    v_accepted := CASE WHEN v_last_at IS NOT NULL AND p_now <= v_last_at
                       THEN v_last_at + INTERVAL '1 microsecond' ELSE p_now END;
    INSERT INTO user_request (user_id, accepted_at, seq) VALUES (p_user, v_accepted, v_last_seq + 1);
    UPDATE user_limit_lock SET last_seq = v_last_seq + 1, last_accepted_at = v_accepted WHERE user_id = p_user;
    INSERT INTO active_stream (id, user_id, instance_id, lease_until) VALUES (p_slot, p_user, p_instance, p_lease_until);
    admitted := TRUE;
    RETURN NEXT;
END;
$$;
