-- A rolling upgrade from a version before V17 runs old and new instances on one database for a while. The old ones
-- store messages with the session's touch (updated_at) but know nothing of history_version, so an instance that keeps
-- a copy of the session's recent history (SessionHistoryCache) saw the same version after an old instance's exchange
-- and sent its next chat's context without it - the stored history stayed complete, the provider saw a hole
-- (data probe, 2026-12-05). Every write of this version moves the version in the same UPDATE; an UPDATE of a session
-- that leaves it where it was comes from an older writer, and moves it here. The WHEN clause is checked without
-- calling the function, so this version's own touches (history_version + 1) cost nothing more.
CREATE OR REPLACE FUNCTION cobalt_history_version_of_older_writer() RETURNS TRIGGER
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.history_version := OLD.history_version + 1;
    RETURN NEW;
END;
$$;

CREATE TRIGGER chat_session_older_writer
    BEFORE UPDATE ON chat_session
    FOR EACH ROW
    WHEN (NEW.history_version = OLD.history_version)
    EXECUTE FUNCTION cobalt_history_version_of_older_writer();
