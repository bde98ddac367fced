-- A chat's admission now runs beside the read of its session (chat-http starts it first and waits for it after the
-- session was found): on PostgreSQL the two round trips overlap instead of adding up. A message that then turns out
-- not to count - its session is not the caller's (404), it is too long for the model (400) - is withdrawn: its
-- stream slot is freed and it is no longer counted, exactly, as if it had never been admitted.
--
-- For that the admission returns the time it recorded for the message (accepted_at: strictly increasing per user,
-- so it names the row, and unlike seq it never changes), and cobalt_withdraw_quick deletes that row and moves the
-- user's later rows down by one in the sequence, under the same lock row as an admission: the counts stay
-- last_seq - (seq of the first row at or after T) + 1 with no gap (V7). The columns the earlier functions returned
-- come first and in the same order, so an instance of the previous version reads them as before.
DROP FUNCTION cobalt_admit_quick(VARCHAR, TIMESTAMPTZ, TIMESTAMPTZ, TIMESTAMPTZ, BIGINT, BIGINT, INTEGER, VARCHAR,
                                 VARCHAR, TIMESTAMPTZ);
DROP FUNCTION cobalt_admit(VARCHAR, TIMESTAMPTZ, TIMESTAMPTZ, TIMESTAMPTZ, BIGINT, BIGINT, INTEGER, VARCHAR,
                           VARCHAR, TIMESTAMPTZ);

CREATE FUNCTION cobalt_admit(p_user VARCHAR, p_now TIMESTAMPTZ, p_day_start TIMESTAMPTZ,
                             p_window_start TIMESTAMPTZ, p_per_day BIGINT, p_per_minute BIGINT,
                             p_max_streams INTEGER, p_slot VARCHAR, p_instance VARCHAR,
                             p_lease_until TIMESTAMPTZ)
    RETURNS TABLE (admitted BOOLEAN, today BIGINT, in_window BIGINT, oldest TIMESTAMPTZ, streams BIGINT, accepted TIMESTAMPTZ)
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
    accepted := v_accepted;
    INSERT INTO active_stream (id, user_id, instance_id, lease_until) VALUES (p_slot, p_user, p_instance, p_lease_until);
    admitted := TRUE;
    RETURN NEXT;
END;
$$;

-- as V16: the admission's transaction commits without waiting for the disk
CREATE FUNCTION cobalt_admit_quick(p_user VARCHAR, p_now TIMESTAMPTZ, p_day_start TIMESTAMPTZ,
                                   p_window_start TIMESTAMPTZ, p_per_day BIGINT, p_per_minute BIGINT,
                                   p_max_streams INTEGER, p_slot VARCHAR, p_instance VARCHAR,
                                   p_lease_until TIMESTAMPTZ)
    RETURNS TABLE (admitted BOOLEAN, today BIGINT, in_window BIGINT, oldest TIMESTAMPTZ, streams BIGINT, accepted TIMESTAMPTZ)
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN QUERY SELECT * FROM cobalt_admit(p_user, p_now, p_day_start, p_window_start, p_per_day, p_per_minute,
                                            p_max_streams, p_slot, p_instance, p_lease_until);
END;
$$;

-- Takes back one admitted message: returns 1 when it was still counted, 0 when there was nothing to take back.
-- The later rows' accepted_at stay as they are, so the order by (accepted_at, seq) is unchanged.
CREATE FUNCTION cobalt_withdraw_quick(p_user VARCHAR, p_accepted TIMESTAMPTZ, p_slot VARCHAR) RETURNS INTEGER
    LANGUAGE plpgsql AS
$$
DECLARE
    v_seq BIGINT;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM 1 FROM user_limit_lock l WHERE l.user_id = p_user FOR UPDATE;
    DELETE FROM active_stream WHERE id = p_slot;
    DELETE FROM user_request r WHERE r.user_id = p_user AND r.accepted_at = p_accepted RETURNING r.seq INTO v_seq;
    IF v_seq IS NULL THEN
        RETURN 0;
    END IF;
    UPDATE user_request r SET seq = r.seq - 1 WHERE r.user_id = p_user AND r.seq > v_seq;
    UPDATE user_limit_lock l SET last_seq = l.last_seq - 1 WHERE l.user_id = p_user;
    RETURN 1;
END;
$$;
