package com.cobalt.chat.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;

import javax.sql.DataSource;

import com.cobalt.chat.http.ApiError;

/**
 * CHAT_RATE_LIMIT_PER_MINUTE and CHAT_DAILY_MESSAGE_QUOTA, per user, counted from the stored user messages so
 * that instances sharing one PostgreSQL share the limits. A refused message is not stored; the client gets 429
 * with Retry-After. Concurrent requests of one user may pass a limit by the few that are in flight together.
 */
public class MessageLimits {

    private static final Duration MINUTE = Duration.ofMinutes(1);

    private final DataSource dataSource;
    private final Clock clock;
    private final int perMinute;
    private final int perDay;

    public MessageLimits(DataSource dataSource, Clock clock, int perMinute, int perDay) {
        this.dataSource = dataSource;
        this.clock = clock;
        this.perMinute = perMinute;
        this.perDay = perDay;
    }

    /** Called by chat-http before anything is stored: {@code check(${variable.user})}. */
    public void check(String user) {
        Instant now = clock.instant();
        Instant dayStart = now.atOffset(ZoneOffset.UTC).toLocalDate().atStartOfDay(ZoneOffset.UTC).toInstant();
        long today = count(user, dayStart);
        if (today >= perDay) {
            long wait = Duration.between(now, dayStart.plus(Duration.ofDays(1))).toSeconds() + 1;
            throw new ApiError(429, "daily_quota_exceeded", "The daily quota of " + perDay + " messages is used up",
                    Map.of("Retry-After", String.valueOf(wait)));
        }
        Instant windowStart = now.minus(MINUTE);
        if (count(user, windowStart) >= perMinute) {
            Instant oldest = oldestSince(user, windowStart);
            long wait = Math.max(1, Duration.between(now, oldest.plus(MINUTE)).toMillis() / 1000 + 1);
            throw new ApiError(429, "rate_limit_exceeded", "More than " + perMinute + " messages in a minute",
                    Map.of("Retry-After", String.valueOf(wait)));
        }
    }

    private long count(String user, Instant since) {
        return query("SELECT COUNT(*) FROM chat_message WHERE user_id = ? AND role = 'user' AND created_at >= ?",
                user, since, rs -> rs.getLong(1));
    }

    private Instant oldestSince(String user, Instant since) {
        OffsetDateTime t = query("SELECT MIN(created_at) FROM chat_message WHERE user_id = ? AND role = 'user'"
                + " AND created_at >= ?", user, since, rs -> rs.getObject(1, OffsetDateTime.class));
        return t == null ? clock.instant() : t.toInstant();
    }

    @FunctionalInterface
    private interface Reader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    private <T> T query(String sql, String user, Instant since, Reader<T> reader) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, user);
            ps.setObject(2, since.atOffset(ZoneOffset.UTC));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return reader.read(rs);
            }
        } catch (SQLException e) {
            throw new ChatStore.StorageException(e);
        }
    }
}
