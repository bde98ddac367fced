package com.cobalt.chat.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.limit.LimitLedger;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Body;
import org.apache.camel.Header;
import org.apache.camel.Variable;

/**
 * Sessions and their messages. Every read and write is scoped to the calling user: another user's session is
 * indistinguishable from a missing one (404).
 */
public class ChatStore {

    /** CHAT_HISTORY_CACHE_MB's default. */
    public static final long DEFAULT_HISTORY_CACHE_BYTES = 64L << 20;

    private static final Pattern UUID_FORMAT =
            Pattern.compile("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");

    /** The columns of an answer's row; the portable statement and PostgreSQL's bind the same values in this order. */
    private static final String ANSWER_COLUMNS = "id, session_id, exchange_id, user_id, role, content, status, provider,"
            + " model, finish_reason, error_code, prompt_tokens, completion_tokens, tokens_estimated, cost_usd,"
            + " time_to_first_token_ms, duration_ms, variant, cached_tokens, reasoning_tokens, reasoning, created_at";
    private static final String INSERT_ANSWER = "INSERT INTO chat_message (" + ANSWER_COLUMNS + ") VALUES (?, ?, ?, ?,"
            + " 'assistant', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String USAGE_COLUMNS = "message_id, user_id, session_id, provider, model, status,"
            + " prompt_tokens, completion_tokens, tokens_estimated, cost_usd, variant, cached_tokens, reasoning_tokens,"
            + " created_at";
    private static final String USAGE_VALUES = " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    /** The sweep's estimated usage of an answer its instance lost (AnswerCheckpoints). */
    static final String INSERT_USAGE = "INSERT INTO llm_usage (" + USAGE_COLUMNS + ")" + USAGE_VALUES;
    /*
     * An answer's usage replaces an estimate the sweep of expired leases wrote for it (AnswerCheckpoints): an instance
     * that could not renew its leases in time (its database out of reach) finishes answers another instance swept.
     */
    private static final String H2_UPSERT_USAGE = "MERGE INTO llm_usage (" + USAGE_COLUMNS + ") KEY (message_id)"
            + USAGE_VALUES;
    private static final String PG_UPSERT_USAGE = INSERT_USAGE + " ON CONFLICT (message_id) DO UPDATE SET"
            + " user_id = EXCLUDED.user_id, session_id = EXCLUDED.session_id, provider = EXCLUDED.provider,"
            + " model = EXCLUDED.model, status = EXCLUDED.status, prompt_tokens = EXCLUDED.prompt_tokens,"
            + " completion_tokens = EXCLUDED.completion_tokens, tokens_estimated = EXCLUDED.tokens_estimated,"
            + " cost_usd = EXCLUDED.cost_usd, variant = EXCLUDED.variant, cached_tokens = EXCLUDED.cached_tokens,"
            + " reasoning_tokens = EXCLUDED.reasoning_tokens, created_at = EXCLUDED.created_at";
    private static final String INSERT_USER_MESSAGE = "INSERT INTO chat_message (id, session_id, exchange_id, user_id,"
            + " role, content, status, created_at) VALUES (?, ?, ?, ?, 'user', ?, 'complete', ?)";
    /**
     * updated_at only moves forward (the session list pages by it, see touch), and the history's version grows by one
     * (SessionHistoryCache); no row: the session is gone.
     */
    private static final String TOUCH_SESSION = "UPDATE chat_session SET updated_at = GREATEST(updated_at, ?),"
            + " history_version = history_version + 1 WHERE id = ?";
    /* H2: a data change delta table gives each write's new values back in the same statement. */
    private static final String H2_TOUCH = "SELECT history_version FROM FINAL TABLE (" + TOUCH_SESSION + ")";
    private static final String H2_USER_MESSAGE = "SELECT seq FROM FINAL TABLE (" + INSERT_USER_MESSAGE + ")";
    private static final String H2_ANSWER = "SELECT seq FROM FINAL TABLE (" + INSERT_ANSWER + ")";

    /*
     * PostgreSQL: each of a chat's two writes in one statement - one round trip where the portable statements take
     * three (the user's message: insert, touch, commit) and five (the answer: the disk-wait setting, touch, insert,
     * usage, commit). A data-modifying WITH runs every part in the one statement's transaction. The session's row is
     * updated first, as in the portable path: a deleted session stores no message (FROM touched is empty), and its lock
     * keeps a delete out until the commit. Typed parameters: a bare one in a SELECT list would be taken as text.
     */
    private static final String PG_TOUCHED = "touched AS (" + TOUCH_SESSION + " RETURNING id, history_version)";
    /** The session's new version and the message's seq; no row when the session is gone. */
    private static final String PG_USER_MESSAGE = "WITH " + PG_TOUCHED + ", stored AS (INSERT INTO chat_message (id,"
            + " session_id, exchange_id, user_id, role, content, status, created_at) SELECT CAST(? AS VARCHAR),"
            + " CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR), 'user', CAST(? AS TEXT), 'complete',"
            + " CAST(? AS TIMESTAMP WITH TIME ZONE) FROM touched RETURNING seq)"
            + " SELECT touched.history_version, stored.seq FROM touched, stored";
    /** Inserted, or the row its checkpoints wrote finished (the conflict on its id): one statement for both. */
    private static final String PG_ANSWER = "answer AS (INSERT INTO chat_message (" + ANSWER_COLUMNS + ")"
            + " SELECT CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR), 'assistant',"
            + " CAST(? AS TEXT), CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR),"
            + " CAST(? AS VARCHAR), CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS BOOLEAN), CAST(? AS DECIMAL),"
            + " CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS VARCHAR), CAST(? AS INTEGER), CAST(? AS INTEGER),"
            + " CAST(? AS TEXT), CAST(? AS TIMESTAMP WITH TIME ZONE) FROM touched"
            + " ON CONFLICT (id) DO UPDATE SET content = EXCLUDED.content, status = EXCLUDED.status,"
            + " provider = EXCLUDED.provider, model = EXCLUDED.model, finish_reason = EXCLUDED.finish_reason,"
            + " error_code = EXCLUDED.error_code, prompt_tokens = EXCLUDED.prompt_tokens,"
            + " completion_tokens = EXCLUDED.completion_tokens, tokens_estimated = EXCLUDED.tokens_estimated,"
            + " cost_usd = EXCLUDED.cost_usd, time_to_first_token_ms = EXCLUDED.time_to_first_token_ms,"
            + " duration_ms = EXCLUDED.duration_ms, variant = EXCLUDED.variant,"
            + " cached_tokens = EXCLUDED.cached_tokens, reasoning_tokens = EXCLUDED.reasoning_tokens,"
            + " reasoning = EXCLUDED.reasoning, instance_id = NULL, lease_until = NULL RETURNING seq)";
    private static final String PG_USAGE = "usage AS (" + PG_UPSERT_USAGE + ")";
    /**
     * This transaction's commit does not wait for the write-ahead log to reach the disk: the client already has the
     * answer; the commit is visible at once and survives any gateway crash, and only a crash of the database server
     * itself within a few hundred milliseconds (3 x wal_writer_delay) can lose it. Local: the pooled connection keeps
     * the database's own setting for the next transaction (the user's message waits for the disk).
     */
    private static final String PG_WITHOUT_DISK_WAIT = "set_config('synchronous_commit', 'off', true)";
    /** The session's new version (null: the session is gone, nothing stored) and the answer's seq. */
    private static final String PG_SELECT_STORED = " SELECT (SELECT history_version FROM touched),"
            + " (SELECT seq FROM answer), " + PG_WITHOUT_DISK_WAIT;
    private static final String PG_NOTHING_STORED = " SELECT CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), "
            + PG_WITHOUT_DISK_WAIT;
    /**
     * The request's stream slot of the shared limits (SharedLimitLedger's active_stream row), freed in the answer's
     * statement instead of a statement of its own: one round trip and one transaction less per chat. Its commit did
     * not wait for the disk on its own either (cobalt_release_quick).
     */
    private static final String PG_FREE_SLOT = "freed AS (DELETE FROM active_stream WHERE id = CAST(? AS VARCHAR))";

    /** The answer's statement on PostgreSQL: [answer, usage, slot] -> SQL, the slot's parameter last. */
    private static String pgAnswerStatement(boolean answer, boolean usage, boolean slot) {
        List<String> parts = new ArrayList<>(4);
        if (answer) {
            parts.add(PG_TOUCHED);
            parts.add(PG_ANSWER);
        }
        if (usage) {
            parts.add(PG_USAGE);
        }
        if (slot) {
            parts.add(PG_FREE_SLOT);
        }
        return "WITH " + String.join(", ", parts) + (answer ? PG_SELECT_STORED : PG_NOTHING_STORED);
    }

    private static final String[] PG_ANSWER_STATEMENTS = new String[8];

    static {
        for (int i = 1; i < 8; i++) {
            PG_ANSWER_STATEMENTS[i] = pgAnswerStatement((i & 4) != 0, (i & 2) != 0, (i & 1) != 0);
        }
    }

    private final DataSource dataSource;
    private final Vendor vendor;
    private final Clock clock;
    private final int maxContextMessages;
    private final int maxSessionsPerUser;
    /**
     * The first key of the advisory locks that serialise one user's session creations on PostgreSQL (the second is
     * the user id's hash): a constant of its own, so they meet no other advisory lock. Users whose ids share a hash
     * only take turns.
     */
    private static final int SESSION_CAP_LOCK_SPACE = 0x5E55_1047;
    private final Object[] sessionCapLocks = new Object[64];
    private final SessionHistoryCache history;
    private final UsageBacklog usageBacklog;
    /** Whether a chat's admission confirms its session in the same statement ({@link #confirmedBy}). */
    private final boolean admissionConfirmsSession;

    public ChatStore(DataSource dataSource, Clock clock) {
        this(dataSource, clock, 20);
    }

    public ChatStore(DataSource dataSource, Clock clock, int maxContextMessages) {
        this(dataSource, clock, maxContextMessages, 1000);
    }

    /**
     * @param maxContextMessages      how many earlier messages a chat sends as context (CHAT_MAX_CONTEXT_MESSAGES)
     * @param maxSessionsPerUser      how many sessions one user may keep (CHAT_MAX_SESSIONS_PER_USER)
     */
    public ChatStore(DataSource dataSource, Clock clock, int maxContextMessages, int maxSessionsPerUser) {
        this(dataSource, clock, maxContextMessages, maxSessionsPerUser, DEFAULT_HISTORY_CACHE_BYTES);
    }

    /**
     * @param maxContextMessages how many earlier messages a chat sends as context (CHAT_MAX_CONTEXT_MESSAGES)
     * @param maxSessionsPerUser how many sessions one user may keep (CHAT_MAX_SESSIONS_PER_USER)
     * @param historyCacheBytes how much memory this instance's copies of recent history may take (CHAT_HISTORY_CACHE_MB,
     *                          0 = none; see {@link SessionHistoryCache})
     */
    public ChatStore(DataSource dataSource, Clock clock, int maxContextMessages, int maxSessionsPerUser,
                     long historyCacheBytes) {
        this(dataSource, clock, maxContextMessages, maxSessionsPerUser, historyCacheBytes, false);
    }

    /**
     * @param admissionConfirmsSession whether the limits admit a message inside a statement of this database
     *                                 ({@code LimitLedger.slotsInChatDatabase()}: the shared limits on PostgreSQL):
     *                                 then a chat whose session this instance holds a copy of reads nothing before its
     *                                 admission, whose statement confirms the session ({@link #sessionContext})
     */
    public ChatStore(DataSource dataSource, Clock clock, int maxContextMessages, int maxSessionsPerUser,
                     long historyCacheBytes, boolean admissionConfirmsSession) {
        // a context's messages and one exchange more: all a chat needs while the session's recent exchanges completed
        // (below the copy, the database is read as before)
        this.history = new SessionHistoryCache(historyCacheBytes, maxContextMessages + 2);
        this.dataSource = dataSource;
        this.vendor = Vendor.of(dataSource);
        this.clock = clock;
        this.maxContextMessages = maxContextMessages;
        this.maxSessionsPerUser = maxSessionsPerUser;
        for (int i = 0; i < sessionCapLocks.length; i++) {
            sessionCapLocks[i] = new Object();
        }
        this.admissionConfirmsSession = admissionConfirmsSession && vendor == Vendor.POSTGRESQL;
        this.usageBacklog = new UsageBacklog(this::writeWaitingUsage, UsageBacklog.MAX_ROWS);
    }

    /**
     * A new session for the caller, within the caller's cap: at most CHAT_MAX_SESSIONS_PER_USER kept (409
     * {@code too_many_sessions}), so one user cannot fill the database. (The creation rate is the route's step
     * before this one.)
     */
    public SessionView createSession(@Variable("user") String userId, @Body NewSession request) {
        requireCaller(userId);
        String id = RowIds.next();
        OffsetDateTime now = now();
        if (vendor == Vendor.POSTGRESQL) {
            insertSession(userId, request, id, now);
        } else {
            // the embedded H2 has one instance: its own lock serialises the user's count-and-insert
            synchronized (sessionCapLocks[Math.floorMod(userId.hashCode(), sessionCapLocks.length)]) {
                insertSession(userId, request, id, now);
            }
        }
        return new SessionView(id, request.titleOrDefault(), null, request.model(), request.variant(), iso(now), null,
                null);
    }

    /**
     * The count and the insert, one transaction. Two creations side by side (on one instance or two) would each count
     * the sessions before the other's insert committed and both pass the cap, so one user's creations take turns: on
     * PostgreSQL behind a transaction-scoped advisory lock on the user (every instance sees it; released at commit),
     * on H2 behind {@link #sessionCapLocks}.
     */
    private void insertSession(String userId, NewSession request, String id, OffsetDateTime now) {
        inConnection(true, c -> {
            if (vendor == Vendor.POSTGRESQL) {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?, ?)")) {
                    ps.setInt(1, SESSION_CAP_LOCK_SPACE);
                    ps.setInt(2, userId.hashCode());
                    ps.execute();
                }
            }
            List<Long> kept = query(c, "SELECT COUNT(*) FROM chat_session WHERE user_id = ?", rs -> rs.getLong(1),
                    userId);
            if (kept.get(0) >= maxSessionsPerUser) {
                throw new ApiError(409, "too_many_sessions", "You have " + maxSessionsPerUser
                        + " sessions, the most one user may keep; delete one to create another");
            }
            update(c, "INSERT INTO chat_session (id, user_id, title, system_prompt, model, variant, created_at,"
                    + " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", id, userId, request.titleOrDefault(),
                    request.systemPrompt(), request.model(), request.variant(), now, now);
            return null;
        });
    }

    /**
     * A page of the caller's sessions, most recently updated first: by {@code updated_at}, then by id (both
     * descending), so the order is total and a page ends at an exact key. {@code cursor} is the previous page's
     * {@code next_cursor}; {@code limit} 1 to 200, default 50. See {@link Paging} and README "Paging" for what a
     * walk through the pages guarantees while sessions are created and updated.
     */
    public SessionPage listSessions(@Variable("user") String userId, @Header("limit") String limit,
                                    @Header("cursor") String cursor) {
        requireCaller(userId);
        int size = Paging.limit(limit, "limit", Paging.DEFAULT_LIMIT);
        String columns = "SELECT id, title, created_at, updated_at FROM chat_session WHERE user_id = ?";
        // ORDER BY names every column of ix_chat_session_user_updated (V11), so both databases walk that index
        // backwards from the cursor and stop after size + 1 rows instead of sorting the user's sessions
        String order = " ORDER BY user_id DESC, updated_at DESC, id DESC LIMIT ?";
        RowMapper<SessionRow> row = rs -> new SessionRow(rs.getObject(4, OffsetDateTime.class),
                new SessionView(rs.getString(1), rs.getString(2), null, null, null, iso(rs, 3), iso(rs, 4), null));
        List<SessionRow> rows;
        if (cursor == null) {
            rows = query(columns + order, row, userId, size + 1);
        } else {
            List<JsonNode> key = Paging.parts(cursor, "cursor", "sessions", 2);
            OffsetDateTime updatedAt = instant(Paging.text(key.get(0), false, "cursor"), "cursor");
            String id = Paging.text(key.get(1), false, "cursor");
            if (!UUID_FORMAT.matcher(id).matches()) {
                throw Paging.invalidCursor("cursor");
            }
            // "updated_at <= ?" alone is what lets the index walk start at the cursor instead of the user's newest
            rows = query(columns + " AND updated_at <= ? AND (updated_at < ? OR (updated_at = ? AND id < ?))" + order,
                    row, userId, updatedAt, updatedAt, updatedAt, id, size + 1);
        }
        String next = null;
        if (rows.size() > size) {
            rows = rows.subList(0, size);
            SessionRow last = rows.get(size - 1);
            next = Paging.cursor("sessions", last.updatedAt().toInstant().toString(), last.view().id());
        }
        return new SessionPage(rows.stream().map(SessionRow::view).toList(), next);
    }

    private record SessionRow(OffsetDateTime updatedAt, SessionView view) {
    }

    private record MessageRow(long seq, MessageView view) {
    }

    /** An instant of a cursor, bound to SQL as a timestamp (never as text). */
    private static OffsetDateTime instant(String value, String parameter) {
        try {
            return java.time.Instant.parse(value).atOffset(ZoneOffset.UTC);
        } catch (java.time.format.DateTimeParseException e) {
            throw Paging.invalidCursor(parameter);
        }
    }

    /**
     * One of the caller's sessions with a page of its messages: the newest {@code messages_limit} (1 to 200, default
     * 200) older than {@code messages_cursor} (the previous page's {@code next_cursor}), shown oldest first. Messages
     * are ordered by {@code seq}, which only grows: messages stored while a client pages are newer than its first
     * page and never shift an older page.
     */
    public SessionDetail getSession(@Variable("user") String userId, @Header("id") String sessionId,
                                    @Header("messages_limit") String messagesLimit,
                                    @Header("messages_cursor") String messagesCursor) {
        requireCaller(userId);
        requireValidId(sessionId);
        int size = Paging.limit(messagesLimit, "messages_limit", Paging.MAX_LIMIT);
        long below = Long.MAX_VALUE;
        if (messagesCursor != null) {
            List<JsonNode> key =
                    Paging.parts(messagesCursor, "messages_cursor", "messages", 2);
            // a cursor of another session's messages is not a position in this one
            if (!sessionId.equals(Paging.text(key.get(0), false, "messages_cursor"))
                    || !key.get(1).canConvertToLong() || !key.get(1).isIntegralNumber()) {
                throw Paging.invalidCursor("messages_cursor");
            }
            below = key.get(1).longValue();
        }
        long before = below;
        return inConnection(false, c -> {
            SessionView session = requireSession(c, userId, sessionId);
            List<MessageRow> rows = query(c, "SELECT id, role, content, status, model, variant, created_at, seq,"
                            + " reasoning, exchange_id, finish_reason FROM chat_message WHERE session_id = ? AND seq < ?"
                            + " ORDER BY session_id DESC, seq DESC LIMIT ?",
                    rs -> new MessageRow(rs.getLong(8), new MessageView(rs.getString(1), rs.getString(10),
                            rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
                            iso(rs, 7), rs.getString(9), rs.getString(11))),
                    sessionId, before, size + 1);
            String next = null;
            if (rows.size() > size) {
                rows = rows.subList(0, size);
                next = Paging.cursor("messages", sessionId, rows.get(size - 1).seq());
            }
            List<MessageView> newestFirst = new ArrayList<>(rows.stream().map(MessageRow::view).toList());
            Collections.reverse(newestFirst);
            return new SessionDetail(session.id(), session.title(), session.systemPrompt(), session.model(),
                    session.variant(), session.createdAt(), session.updatedAt(), newestFirst, next);
        });
    }

    public void deleteSession(@Variable("user") String userId, @Header("id") String sessionId) {
        requireCaller(userId);
        requireValidId(sessionId);
        if (update("DELETE FROM chat_session WHERE id = ? AND user_id = ?", sessionId, userId) == 0) {
            throw sessionNotFound();
        }
        history.forget(sessionId);
    }

    /**
     * For chat-http: the caller's session with its last CHAT_MAX_CONTEXT_MESSAGES messages (404 if not theirs). Where
     * the admission confirms the session ({@code admissionConfirmsSession}) and this instance holds a copy of the
     * caller's session, the context comes from the copy without a round trip, {@linkplain SessionContext#confirmed()
     * unconfirmed}: its system prompt, model and variant (a session's never change) are enough for the checks before
     * the admission, and the admission's statement reads the rest ({@link #confirmedBy}).
     */
    public SessionContext sessionContext(@Variable("user") String userId, @Variable("sessionId") String sessionId) {
        if (admissionConfirmsSession && maxContextMessages > 0 && userId != null && sessionId != null) {
            SessionHistoryCache.Copy copy = history.copyOf(sessionId);
            // only the owner's own copy: another caller gets the 404 from the database, never this session's checks
            if (copy != null && userId.equals(copy.head().userId())) {
                SessionHistoryCache.Head head = copy.head();
                return new SessionContext(head.systemPrompt(), List.of(), head.model(), head.variant(),
                        new SessionContext.Unconfirmed(sessionId, copy));
            }
        }
        return loadContext(userId, sessionId, maxContextMessages);
    }

    /** An unconfirmed context confirmed, and the message's admission that confirmed it. */
    public record AdmittedContext(SessionContext context, LimitLedger.Admission admission) {
    }

    /**
     * Confirms a context {@link #sessionContext} took from memory, in the statement that admits the message
     * (PostgreSQL, {@code LimitLedger.admitWithin}): the admission runs only for a session that is still the caller's
     * (a 404 otherwise, and nothing counted), and the same statement returns the session's row and - when its version
     * is no longer the copy's - the newest page of its messages. One round trip where a chat took two.
     */
    public AdmittedContext confirmedBy(SessionContext context, LimitLedger.AdmissionCall admission) {
        SessionContext.Unconfirmed pending = context.unconfirmed();
        String sql = "SELECT a.*, s.system_prompt, s.model, s.variant, s.history_version, m.seq, m.exchange_id, m.role,"
                + " m.status, m.content FROM chat_session s CROSS JOIN LATERAL " + admission.sql("s.user_id")
                + " a LEFT JOIN LATERAL (SELECT seq, exchange_id, role, status, content FROM chat_message"
                + " WHERE session_id = s.id AND a.admitted AND s.history_version <> ?"
                + " ORDER BY session_id DESC, seq DESC LIMIT ?) m ON TRUE"
                + " WHERE s.id = ? AND s.user_id = ? ORDER BY m.seq DESC";
        int head = LimitLedger.AdmissionCall.COLUMNS + 1;
        int page = firstPage(maxContextMessages);
        return inConnection(false, c -> {
            LimitLedger.Admission admitted = null;
            SessionHead row = null;
            List<StoredMessage> firstPage = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int next = admission.bind(ps, 1);
                ps.setLong(next, pending.copy.version());
                ps.setInt(next + 1, page);
                ps.setString(next + 2, pending.sessionId);
                ps.setString(next + 3, pending.copy.head().userId());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (admitted == null) {
                            admitted = admission.admission(rs, 1); // a 429 when refused
                            row = new SessionHead(rs.getString(head), rs.getString(head + 1), rs.getString(head + 2),
                                    rs.getLong(head + 3));
                        }
                        if (rs.getObject(head + 4) != null) {
                            firstPage.add(new StoredMessage(rs.getLong(head + 4), rs.getString(head + 5),
                                    rs.getString(head + 6), rs.getString(head + 7), rs.getString(head + 8)));
                        }
                    }
                }
            }
            if (admitted == null) {
                history.forget(pending.sessionId); // deleted elsewhere: the copy has nothing left to stand for
                throw sessionNotFound(); // the admission never ran
            }
            return new AdmittedContext(context(c, pending.copy.head().userId(), pending.sessionId, maxContextMessages, row,
                    pending.copy, firstPage), admitted);
        });
    }

    /**
     * The system prompt and the last {@code maxMessages} messages of completed exchanges, oldest first, each question
     * followed by its answer ({@link #lastCompleteMessages}). The messages come from this instance's copy when the
     * session's version is still the copy's (SessionHistoryCache), else from the database (and are copied).
     */
    public SessionContext loadContext(String userId, String sessionId, int maxMessages) {
        requireCaller(userId);
        requireValidId(sessionId);
        SessionHistoryCache.Copy copy = history.copyOf(sessionId);
        return inConnection(false, c -> {
            if (vendor == Vendor.POSTGRESQL) {
                return contextInOneQuery(c, userId, sessionId, maxMessages, copy);
            }
            // the version before the messages: a copy labelled with it then holds at least what that version had
            List<SessionHead> head = query(c, "SELECT system_prompt, model, variant, history_version FROM chat_session"
                    + " WHERE id = ? AND user_id = ?", rs -> new SessionHead(rs.getString(1), rs.getString(2),
                    rs.getString(3), rs.getLong(4)), sessionId, userId);
            if (head.isEmpty()) {
                throw sessionNotFound();
            }
            return context(c, userId, sessionId, maxMessages, head.get(0), copy, null);
        });
    }

    /** What a chat reads of its session's row. */
    private record SessionHead(String systemPrompt, String model, String variant, long version) {
    }

    /**
     * The context from the copy when it is at the session's version, else from {@code firstPage} (the newest page,
     * when it was read with the session's row) or the database; a page read is copied.
     */
    private SessionContext context(Connection c, String userId, String sessionId, int maxMessages, SessionHead head,
                                   SessionHistoryCache.Copy copy, List<StoredMessage> firstPage) throws SQLException {
        if (maxMessages == 0) {
            return new SessionContext(head.systemPrompt(), List.of(), head.model(), head.variant());
        }
        List<StoredMessage> newest;
        boolean whole;
        boolean fromCopy = copy != null && copy.version() == head.version();
        history.counted(fromCopy);
        if (fromCopy) {
            newest = copy.newestFirst();
            whole = copy.whole();
        } else {
            int page = firstPage(maxMessages);
            newest = firstPage != null ? firstPage : readPage(c, sessionId, Long.MAX_VALUE, page);
            whole = newest.size() < page;
            history.read(sessionId, new SessionHistoryCache.Head(userId, head.systemPrompt(), head.model(),
                    head.variant()), head.version(), newest, whole);
        }
        return new SessionContext(head.systemPrompt(), lastCompleteMessages(c, sessionId, maxMessages, newest, whole),
                head.model(), head.variant());
    }

    private record ContextRow(SessionHead head, StoredMessage message) {
    }

    /**
     * PostgreSQL: the session (the caller's, or none) and the first page of its messages in one query, where the
     * portable path takes two - the page only when this instance's copy is not at the session's version (one round
     * trip either way); a session with more pages than that reads on as before.
     */
    private SessionContext contextInOneQuery(Connection c, String userId, String sessionId, int maxMessages,
                                             SessionHistoryCache.Copy copy) throws SQLException {
        int page = firstPage(maxMessages);
        List<ContextRow> rows = query(c, "SELECT s.system_prompt, s.model, s.variant, s.history_version, m.seq,"
                        + " m.exchange_id, m.role, m.status, m.content FROM chat_session s LEFT JOIN LATERAL (SELECT"
                        + " seq, exchange_id, role, status, content FROM chat_message WHERE session_id = s.id"
                        + " AND s.history_version <> ? ORDER BY session_id DESC, seq DESC LIMIT ?) m ON TRUE"
                        + " WHERE s.id = ? AND s.user_id = ? ORDER BY m.seq DESC",
                rs -> new ContextRow(new SessionHead(rs.getString(1), rs.getString(2), rs.getString(3),
                        rs.getLong(4)), rs.getObject(5) == null ? null : new StoredMessage(rs.getLong(5),
                        rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9))),
                copy == null ? -1L : copy.version(), page, sessionId, userId);
        if (rows.isEmpty()) {
            throw sessionNotFound();
        }
        List<StoredMessage> firstPage = new ArrayList<>(rows.size());
        for (ContextRow row : rows) {
            if (row.message() != null) {
                firstPage.add(row.message());
            }
        }
        return context(c, userId, sessionId, maxMessages, rows.get(0).head(), copy, firstPage);
    }

    /** Messages read at a time: a whole context and its answers' questions, most often in one page. */
    private static int firstPage(int maxMessages) {
        return 2 * maxMessages + 2;
    }

    /**
     * Walks the session's messages newest first - {@code newest} (the newest page, from the database or the copy; all
     * of the session's messages when {@code whole}), then straight down the (session_id, seq) index a page at a time -
     * and stops once it has enough: the cost follows maxMessages, not the length of the session (ORDER BY names both
     * index columns, so H2 walks the index backwards instead of sorting the whole session). An exchange counts once
     * its answer is stored as complete.
     *
     * <p>The context is exchanges, not rows: each question followed by its answer, in the order the questions were
     * accepted. The stored order is not that when messages were sent side by side - every question is stored before
     * the first answer, and the answers land in the order they finished - and strict providers (Llama and Mistral
     * chat templates) refuse roles that do not alternate. The answer is stored after its question, so walking down an
     * answer is always met before its question: a complete answer waits until its question is met, and the pair goes
     * in there, so exchanges come out by their question's seq. Whole exchanges only: with an odd maxMessages the context
     * holds one message fewer, since an answer without its question would start the history with the assistant, which
     * the same strict templates refuse (after the system prompt, the first turn must be the user's).
     */
    private static List<ContextMessage> lastCompleteMessages(Connection c, String sessionId, int maxMessages,
                                                             List<StoredMessage> newest, boolean whole)
            throws SQLException {
        List<ContextMessage> newestFirst = new ArrayList<>();
        Map<String, StoredMessage> answersAwaitingQuestion = new HashMap<>();
        int page = firstPage(maxMessages);
        long below = Long.MAX_VALUE;
        List<StoredMessage> rows = newest;
        boolean last = whole;
        int room = maxMessages - maxMessages % 2; // whole exchanges
        while (newestFirst.size() < room) {
            for (StoredMessage m : rows) {
                below = m.seq();
                if ("assistant".equals(m.role())) {
                    if ("complete".equals(m.status())) {
                        answersAwaitingQuestion.putIfAbsent(m.exchangeId(), m);
                    }
                    continue;
                }
                // no complete answer above it: unanswered yet, or its answer failed, was cut or still streams
                StoredMessage answer = answersAwaitingQuestion.remove(m.exchangeId());
                if (answer == null) {
                    continue;
                }
                // newest first, so the answer before its question
                newestFirst.add(new ContextMessage(answer.role(), answer.content()));
                newestFirst.add(new ContextMessage(m.role(), m.content()));
                if (newestFirst.size() == room) {
                    break;
                }
            }
            if (last || newestFirst.size() == room) {
                break;
            }
            rows = readPage(c, sessionId, below, page);
            last = rows.size() < page;
        }
        Collections.reverse(newestFirst);
        return newestFirst;
    }

    /**
     * What the gateway sent its provider for the answer of {@code exchangeId}, as near as the stored rows tell: the
     * session's system prompt, the last {@code maxMessages} messages of exchanges complete before its question (see
     * {@link #lastCompleteMessages}), and the question. Without its question (the session is gone), nothing. For the
     * usage the sweep estimates for an answer its instance lost (AnswerCheckpoints); not trimmed to the model's context
     * window as Conversations does, so a prompt that was trimmed is counted a little high.
     */
    static List<ContextMessage> promptOf(Connection c, String sessionId, String exchangeId, int maxMessages)
            throws SQLException {
        List<StoredMessage> question = query(c, "SELECT seq, exchange_id, role, status, content FROM chat_message"
                        + " WHERE session_id = ? AND exchange_id = ? AND role = 'user'",
                rs -> new StoredMessage(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5)), sessionId, exchangeId);
        List<String> system = query(c, "SELECT system_prompt FROM chat_session WHERE id = ?", rs -> rs.getString(1),
                sessionId);
        if (question.isEmpty() || system.isEmpty()) {
            return List.of();
        }
        List<ContextMessage> messages = new ArrayList<>();
        if (system.get(0) != null) {
            messages.add(new ContextMessage("system", system.get(0)));
        }
        if (maxMessages > 0) {
            int page = firstPage(maxMessages);
            List<StoredMessage> newest = readPage(c, sessionId, question.get(0).seq(), page);
            messages.addAll(lastCompleteMessages(c, sessionId, maxMessages, newest, newest.size() < page));
        }
        messages.add(new ContextMessage("user", question.get(0).content()));
        return messages;
    }

    /**
     * The estimated usage of an answer the sweep marked interrupted (AnswerCheckpoints), in the sweep's transaction: on
     * its row, and in the ledger under the answer's id - once, as the sweep marks a row once. An answer whose message
     * could not be stored may have its real usage in the ledger already (written on its own, or from the usage rows
     * that waited for the database): that row stays. Before, the sweep's insert failed on the ledger's key, and with it
     * the whole sweep, at every tick: no expired answer was marked again.
     */
    static void storeSweptUsage(Connection c, String id, String userId, String sessionId, String provider,
                                String model, String variant, SweptUsage.Estimate usage, OffsetDateTime createdAt)
            throws SQLException {
        update(c, "UPDATE chat_message SET prompt_tokens = ?, completion_tokens = ?, tokens_estimated = TRUE,"
                + " cost_usd = ? WHERE id = ?", usage.promptTokens(), usage.completionTokens(), usage.costUsd(), id);
        boolean pg = Vendor.of(c) == Vendor.POSTGRESQL;
        // H2 is embedded: one instance, whose sweep runs before its routes start, so nothing writes the row meanwhile
        if (!pg && first(query(c, "SELECT COUNT(*) FROM llm_usage WHERE message_id = ?", rs -> rs.getInt(1), id)) > 0) {
            return;
        }
        update(c, pg ? INSERT_USAGE + " ON CONFLICT (message_id) DO NOTHING" : INSERT_USAGE, id, userId, sessionId,
                provider, model == null ? "" : model, "interrupted", usage.promptTokens(), usage.completionTokens(),
                true, usage.costUsd(), variant, null, null, createdAt);
    }

    /** The session's newest {@code size} messages below {@code seq}, newest first. */
    private static List<StoredMessage> readPage(Connection c, String sessionId, long below, int size)
            throws SQLException {
        return query(c, "SELECT seq, exchange_id, role, status, content FROM chat_message WHERE session_id = ?"
                        + " AND seq < ? ORDER BY session_id DESC, seq DESC LIMIT ?",
                rs -> new StoredMessage(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5)), sessionId, below, size);
    }

    /**
     * Stores what the user sent, before any provider is called, so a failure later loses nothing; the commit waits for
     * the disk. A session deleted since chat-http read it is 404, as it would have been a moment earlier.
     */
    public String saveUserMessage(@Variable("user") String userId, @Variable("sessionId") String sessionId,
                                  @Variable("exchangeId") String exchangeId, @Variable("content") String content) {
        requireCaller(userId);
        String id = RowIds.next();
        OffsetDateTime now = now();
        Written stored = vendor == Vendor.POSTGRESQL
                ? first(query(PG_USER_MESSAGE, ChatStore::written, now, sessionId, id, sessionId, exchangeId, userId,
                        content, now))
                : inConnection(true, c -> {
                    Long version = touch(c, sessionId, now);
                    return version == null ? null : new Written(version, first(query(c, H2_USER_MESSAGE,
                            rs -> rs.getLong(1), id, sessionId, exchangeId, userId, content, now)));
                });
        if (stored == null) {
            throw sessionNotFound();
        }
        history.wrote(sessionId, stored.version(), new StoredMessage(stored.seq(), exchangeId, "user", "complete",
                content));
        return id;
    }

    /** A message stored: the session's version its transaction made, and the message's seq. */
    private record Written(long version, long seq) {
    }

    private static Written written(ResultSet rs) throws SQLException {
        return new Written(rs.getLong(1), rs.getLong(2));
    }

    private static <T> T first(List<T> rows) {
        return rows.isEmpty() ? null : rows.get(0);
    }

    /** Chats whose history came from this instance's copy (see {@link SessionHistoryCache}). */
    public long historyReadsFromCopies() {
        return history.readsFromCopies();
    }

    /** Chats whose history was read from the database. */
    public long historyReadsFromDatabase() {
        return history.readsFromDatabase();
    }

    /**
     * Where an answer went: {@code stored} false when its session was deleted while it streamed; {@code slotFreed}
     * when the stream slot it was given went in the same statement (see {@link #saveAnswer(AnswerRecord, String,
     * boolean, String)}).
     */
    public record SavedAnswer(String id, boolean stored, boolean slotFreed) {

        /** No stream slot was given to free. */
        public SavedAnswer(String id, boolean stored) {
            this(id, stored, false);
        }
    }

    /**
     * Stores the answer; when a provider answered, also its usage in the ledger that outlives the chat. An answer
     * without a session (the OpenAI-compatible API) goes only into the ledger.
     */
    public String saveAnswer(AnswerRecord a) {
        return saveAnswer(a, RowIds.next(), false, null).id();
    }

    /**
     * Stores the answer under {@code rowId} (a new id when null), finishing the row its checkpoints wrote when {@code checkpointed} (a
     * checkpoint may have written it; without one it is simply inserted - on PostgreSQL one upsert does either, so
     * {@code checkpointed} is not needed there). The session's row is updated first: that
     * finds a session deleted while the answer streamed (its checkpointed row went with it), and locks the session so
     * a delete cannot slip in between. A deleted session's answer is not stored, its usage is. If the answer cannot be
     * stored at all, its usage is still written on its own before the failure is thrown: the ledger keeps it.
     * <p>
     * With {@code slotToFree}: the request's stream slot of the limits shared through this database (SharedLimitLedger on
     * PostgreSQL), deleted in the answer's own statement, so the chat's end is one round trip instead of two; null
     * for none. Only on PostgreSQL ({@code slotFreed} says whether it went); elsewhere the caller frees it.
     */
    public SavedAnswer saveAnswer(AnswerRecord a, String rowId, boolean checkpointed) {
        return saveAnswer(a, rowId, checkpointed, null);
    }

    /** As {@link #saveAnswer(AnswerRecord, String, boolean)}, freeing {@code slotToFree} with it (see above). */
    public SavedAnswer saveAnswer(AnswerRecord a, String rowId, boolean checkpointed, String slotToFree) {
        String id = rowId != null ? rowId : RowIds.next();
        OffsetDateTime now = now();
        try {
            // committed without waiting for the disk on PostgreSQL (PG_WITHOUT_DISK_WAIT); the embedded H2 never
            // waits for the disk on commit (it writes in the background)
            boolean pg = vendor == Vendor.POSTGRESQL;
            Written stored = pg ? saveInOneStatement(a, id, now, slotToFree)
                    : a.sessionId() == null ? saveUsageAlone(a, id, now)
                    : inConnection(true, c -> {
                        Written answer = NOT_IN_A_SESSION;
                        if (a.sessionId() != null) {
                            Long version = touch(c, a.sessionId(), now);
                            if (version == null) {
                                saveUsage(c, id, a, now, checkpointed);
                                return null;
                            }
                            Long seq = checkpointed ? finishCheckpointed(c, id, a) : null;
                            if (seq == null) {
                                seq = first(query(c, H2_ANSWER, rs -> rs.getLong(1), answerValues(id, a, now)));
                            }
                            answer = new Written(version, seq);
                        }
                        saveUsage(c, id, a, now, checkpointed);
                        return answer;
                    });
            boolean slotFreed = pg && slotToFree != null;
            if (stored == null) {
                return new SavedAnswer(id, false, slotFreed);
            }
            if (a.sessionId() != null) {
                history.wrote(a.sessionId(), stored.version(), new StoredMessage(stored.seq(), a.exchangeId(),
                        "assistant", a.status(), a.content()));
            }
            return new SavedAnswer(id, true, slotFreed);
        } catch (StorageException e) {
            Exception usageFailure = e;
            if (a.sessionId() != null && hasUsage(a)) {
                try {
                    inConnection(false, c -> {
                        saveUsage(c, id, a, now, checkpointed);
                        return null;
                    });
                    usageFailure = null;
                } catch (StorageException usageAlsoFailed) {
                    e.addSuppressed(usageAlsoFailed);
                    usageFailure = usageAlsoFailed;
                }
            }
            if (usageFailure != null && hasUsage(a) && Database.outOfReach(usageFailure)) {
                // the provider billed it: its row waits for the database instead of being lost with the outage
                usageBacklog.add(usageValues(id, a, now));
                if (a.sessionId() == null) {
                    // only its usage to keep, and that is kept; a slot that was to go with it is freed by the route's
                    // release (slotFreed false), as when no statement freed it
                    return new SavedAnswer(id, true, false);
                }
            }
            throw e;
        }
    }

    /**
     * Usage rows the database did not take while it was out of reach, each written as an upsert on its id: a first
     * write whose commit was lost with its acknowledgement, or a swept answer's estimate, is replaced, not doubled.
     */
    private void writeWaitingUsage(List<UsageBacklog.Row> rows) throws SQLException {
        String sql = vendor == Vendor.POSTGRESQL ? PG_UPSERT_USAGE : H2_UPSERT_USAGE;
        try (Connection c = dataSource.getConnection()) {
            Transactions.inTransaction(c, tx -> {
                try (PreparedStatement ps = tx.prepareStatement(sql)) {
                    for (UsageBacklog.Row row : rows) {
                        bind(ps, row.values());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                return null;
            });
        }
    }

    /** The usage rows waiting for the database, if it was out of reach when their answers ended. */
    public UsageBacklog usageBacklog() {
        return usageBacklog;
    }

    /** What saveAnswer stores for an answer without a session (only its usage). */
    private static final Written NOT_IN_A_SESSION = new Written(0, 0);

    /**
     * H2, an answer without a session: its usage row alone, one statement in autocommit mode - no transaction to
     * open around it, and no connection at all when there is no usage to keep. (H2 still commits the statement
     * itself: bench/README fix 47 measured no CPU gain beyond the JDBC calls saved.)
     */
    private Written saveUsageAlone(AnswerRecord a, String id, OffsetDateTime now) {
        if (hasUsage(a)) {
            // never swept (no session, no checkpoint): nothing to replace, a plain insert
            inConnection(false, c -> update(c, INSERT_USAGE, usageValues(id, a, now)));
        }
        return NOT_IN_A_SESSION;
    }

    /**
     * PostgreSQL: the touch, the answer, its usage and the slot's release in one statement (see PG_ANSWER); null when
     * the session is gone.
     */
    private Written saveInOneStatement(AnswerRecord a, String id, OffsetDateTime now, String slotToFree) {
        boolean answer = a.sessionId() != null;
        boolean usage = hasUsage(a);
        boolean slot = slotToFree != null;
        if (!answer && !usage && !slot) {
            return NOT_IN_A_SESSION;
        }
        List<Object> values = new ArrayList<>(40);
        if (answer) {
            values.add(now);
            values.add(a.sessionId());
            values.addAll(Arrays.asList(answerValues(id, a, now)));
        }
        if (usage) {
            values.addAll(Arrays.asList(usageValues(id, a, now)));
        }
        if (slot) {
            values.add(slotToFree);
        }
        String sql = PG_ANSWER_STATEMENTS[(answer ? 4 : 0) | (usage ? 2 : 0) | (slot ? 1 : 0)];
        List<Written> stored = inConnection(false, c -> query(c, sql,
                rs -> rs.getObject(1) == null ? null : written(rs), values.toArray()));
        return answer ? stored.get(0) : NOT_IN_A_SESSION;
    }

    private static Object[] answerValues(String id, AnswerRecord a, OffsetDateTime now) {
        return new Object[] {id, a.sessionId(), a.exchangeId(), a.userId(), a.content(), a.status(), a.provider(),
                a.model(), a.finishReason(), a.errorCode(), a.promptTokens(), a.completionTokens(), a.tokensEstimated(),
                a.costUsd(), a.timeToFirstTokenMs(), a.durationMs(), a.variant(), a.cachedTokens(),
                a.reasoningTokens(), a.reasoning(), now};
    }

    /** The final state of a row a checkpoint wrote: its seq; null when there is none (no checkpoint got through). */
    private static Long finishCheckpointed(Connection c, String id, AnswerRecord a) throws SQLException {
        return first(query(c, "SELECT seq FROM FINAL TABLE (UPDATE chat_message SET content = ?, status = ?, provider = ?, model = ?, finish_reason = ?,"
                        + " error_code = ?, prompt_tokens = ?, completion_tokens = ?, tokens_estimated = ?, cost_usd = ?,"
                        + " time_to_first_token_ms = ?, duration_ms = ?, variant = ?, cached_tokens = ?,"
                        + " reasoning_tokens = ?, reasoning = ?, instance_id = NULL, lease_until = NULL WHERE id = ?)",
                rs -> rs.getLong(1), a.content(), a.status(), a.provider(), a.model(), a.finishReason(), a.errorCode(), a.promptTokens(),
                a.completionTokens(), a.tokensEstimated(), a.costUsd(), a.timeToFirstTokenMs(), a.durationMs(),
                a.variant(), a.cachedTokens(), a.reasoningTokens(), a.reasoning(), id));
    }

    /**
     * Moves the session's updated_at to {@code now}, never back: instances whose clocks disagree (or a clock set
     * back) must not move a session down the list, where a client paging through it would see it a second time.
     * H2: the session's new history version; null when the session is gone.
     */
    private static Long touch(Connection c, String sessionId, OffsetDateTime now) throws SQLException {
        return first(query(c, H2_TOUCH, rs -> rs.getLong(1), now, sessionId));
    }

    /** A provider answered: its tokens go into the ledger that outlives the chat. */
    private static boolean hasUsage(AnswerRecord a) {
        return a.provider() != null && a.promptTokens() != null && a.completionTokens() != null;
    }

    /**
     * @param checkpointed whether a checkpoint may have written the answer's row: only such a row can have been swept
     *                     (and given an estimated usage) while this instance could not renew its lease, so only its
     *                     usage is an upsert; every other answer's is a plain insert (H2's MERGE is an update and then
     *                     an insert, twice the work on a chat's path)
     */
    private void saveUsage(Connection c, String id, AnswerRecord a, OffsetDateTime now, boolean checkpointed)
            throws SQLException {
        if (hasUsage(a)) {
            update(c, !checkpointed ? INSERT_USAGE : vendor == Vendor.POSTGRESQL ? PG_UPSERT_USAGE : H2_UPSERT_USAGE,
                    usageValues(id, a, now));
        }
    }

    private static Object[] usageValues(String id, AnswerRecord a, OffsetDateTime now) {
        return new Object[] {id, a.userId(), a.sessionId(), a.provider(), a.model() == null ? "" : a.model(),
                a.status(), a.promptTokens(), a.completionTokens(), Boolean.TRUE.equals(a.tokensEstimated()),
                a.costUsd(), a.variant(), a.cachedTokens(), a.reasoningTokens(), now};
    }

    private static SessionView requireSession(Connection c, String userId, String sessionId) throws SQLException {
        List<SessionView> found = query(c, "SELECT id, title, system_prompt, model, variant, created_at, updated_at"
                        + " FROM chat_session WHERE id = ? AND user_id = ?",
                rs -> new SessionView(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), iso(rs, 6), iso(rs, 7), null),
                sessionId, userId);
        if (found.isEmpty()) {
            throw sessionNotFound();
        }
        return found.get(0);
    }

    private static void requireValidId(String sessionId) {
        if (sessionId == null || !UUID_FORMAT.matcher(sessionId).matches()) {
            throw sessionNotFound();
        }
    }

    private static ApiError sessionNotFound() {
        return ApiError.notFound("session_not_found", "No such session");
    }

    private OffsetDateTime now() {
        return OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC).truncatedTo(ChronoUnit.MILLIS);
    }

    private static String iso(OffsetDateTime t) {
        return t.toInstant().toString();
    }

    private static String iso(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : iso(t);
    }

    @FunctionalInterface
    private interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    /**
     * One connection for several statements; with {@code transaction}, one commit for all of them. A connection the
     * database dropped (a restart, a failover, a terminated backend: the pool hands out a connection that looked
     * alive) is tried once more on a fresh one, so an answer the client already has is not lost to a connection that
     * died a moment before; the pool's other connections, dead too, are evicted first.
     */
    private <T> T inConnection(boolean transaction, Transactions.Work<T> work) {
        return onceMoreIfConnectionLost(dataSource, () -> attempt(transaction, work));
    }

    /** Work on a connection of its own taking: {@link #onceMoreIfConnectionLost} runs it again. */
    @FunctionalInterface
    public interface SqlCall<T> {
        T call() throws SQLException;
    }

    /**
     * {@code call}, and once more if the connection it got was one the database had dropped (SQLState 08003, 08006,
     * 57P01): a database that dropped one connection dropped them all (a restart, a failover), so the pool's idle
     * connections are closed first and its busy ones as they come back, and the second call gets a fresh one. Any
     * other failure, or the second, is a {@link StorageException}. The chat store's statements and the shared limits'
     * admission both go through here.
     */
    public static <T> T onceMoreIfConnectionLost(DataSource dataSource, SqlCall<T> call) {
        try {
            return call.call();
        } catch (SQLException e) {
            if (!connectionLost(e)) {
                throw new StorageException(e);
            }
            if (dataSource instanceof com.zaxxer.hikari.HikariDataSource pool && pool.getHikariPoolMXBean() != null) {
                pool.getHikariPoolMXBean().softEvictConnections();
            }
            try {
                return call.call();
            } catch (SQLException again) {
                again.addSuppressed(e);
                throw new StorageException(again);
            }
        }
    }

    private <T> T attempt(boolean transaction, Transactions.Work<T> work) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return transaction ? Transactions.inTransaction(c, work) : work.run(c);
        }
    }

    /**
     * The connection was gone when the statement ran: SQLState 08003 (no such connection), 08006 (the connection
     * failed), 57P01 (PostgreSQL terminated the backend). Not a refused or timed-out connect (08001, Hikari's
     * timeout): a retry would only wait again.
     */
    static boolean connectionLost(SQLException e) {
        String state = e.getSQLState();
        return "08003".equals(state) || "08006".equals(state) || "57P01".equals(state);
    }

    private <T> List<T> query(String sql, RowMapper<T> mapper, Object... args) {
        return inConnection(false, c -> query(c, sql, mapper, args));
    }

    private static <T> List<T> query(Connection c, String sql, RowMapper<T> mapper, Object... args)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
                List<T> rows = new ArrayList<>();
                while (rs.next()) {
                    rows.add(mapper.map(rs));
                }
                return rows;
            }
        }
    }

    private int update(String sql, Object... args) {
        return inConnection(false, c -> update(c, sql, args));
    }

    private static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        }
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) {
                ps.setNull(i + 1, Types.NULL);
            } else {
                ps.setObject(i + 1, a);
            }
        }
    }

    /** A database failure; its SQL message is logged, never sent to the client. */
    /** Every read and write is on behalf of one authenticated user: none is a bug, never "everyone". */
    private static void requireCaller(String userId) {
        if (userId == null || userId.isEmpty()) {
            throw new IllegalStateException("no authenticated caller");
        }
    }

    public static class StorageException extends RuntimeException {
        public StorageException(SQLException cause) {
            super("storage failure: " + cause.getSQLState(), cause);
        }
    }
}
