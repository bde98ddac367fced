-- The shared limits' own transactions - an admission (cobalt_admit, V15) and the release of a stream slot - commit
-- without waiting for PostgreSQL to flush its write-ahead log to disk (synchronous_commit off for that transaction
-- alone). One user's admissions are serialised on the user's lock row until commit, so the flush was part of every
-- one of them: one service account measured 1,013 admissions/s with it and 1,538/s without (bench/README.md).
--
-- What that costs: if the database server itself crashes (not a gateway instance), the admissions and releases of
-- its last few hundred milliseconds (3 x wal_writer_delay) may be forgotten: those messages do not count toward the
-- user's rate and quota, and a forgotten release is a slot that frees itself when its lease runs out. What the user
-- sent is not affected: the user's message still commits synchronously (the finished answer and its usage row do
-- not wait either - Transactions.inTransactionWithoutDiskWait). Visibility is unchanged, so instances sharing the
-- database still admit exactly the limit.
--
-- set_config(..., true) holds until the end of the calling transaction - its commit included - and no longer: the
-- pooled connection keeps the database's own setting for everything else.
CREATE OR REPLACE FUNCTION cobalt_admit_quick(p_user VARCHAR, p_now TIMESTAMPTZ, p_day_start TIMESTAMPTZ,
                                              p_window_start TIMESTAMPTZ, p_per_day BIGINT, p_per_minute BIGINT,
                                              p_max_streams INTEGER, p_slot VARCHAR, p_instance VARCHAR,
                                              p_lease_until TIMESTAMPTZ)
    RETURNS TABLE (admitted BOOLEAN, today BIGINT, in_window BIGINT, oldest TIMESTAMPTZ, streams BIGINT)
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN QUERY SELECT * FROM cobalt_admit(p_user, p_now, p_day_start, p_window_start, p_per_day, p_per_minute,
                                            p_max_streams, p_slot, p_instance, p_lease_until);
END;
$$;

CREATE OR REPLACE FUNCTION cobalt_release_quick(p_slot VARCHAR) RETURNS INTEGER
    LANGUAGE plpgsql AS
$$
DECLARE
    v_deleted INTEGER;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    DELETE FROM active_stream WHERE id = p_slot;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END;
$$;
