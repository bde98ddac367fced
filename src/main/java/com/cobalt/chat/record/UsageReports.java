package com.cobalt.chat.record;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

import javax.sql.DataSource;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.Paging;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Header;
import org.apache.camel.Variable;

/**
 * GET /api/v1/usage: tokens and cost from the usage ledger (grouped by provider, model, day, user or A/B variant), for the caller's own answers; administrators may ask
 * for another user or group by user. Provider-reported and gateway-estimated counts are reported apart, and an
 * unpriced answer makes the cost partial (counted in {@code unpriced_answers}), never 0.
 */
public class UsageReports {

    private static final Set<String> GROUPS = Set.of("provider", "model", "day", "user", "variant");
    private static final Duration DEFAULT_WINDOW = Duration.ofDays(30);

    private final DataSource dataSource;
    private final Clock clock;

    public UsageReports(DataSource dataSource, Clock clock) {
        this.dataSource = dataSource;
        this.clock = clock;
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Totals(String key, long answers,
                         @JsonProperty("prompt_tokens") long promptTokens,
                         @JsonProperty("completion_tokens") long completionTokens,
                         @JsonProperty("estimated_answers") long estimatedAnswers,
                         @JsonProperty("estimated_prompt_tokens") long estimatedPromptTokens,
                         @JsonProperty("estimated_completion_tokens") long estimatedCompletionTokens,
                         @JsonProperty("cost_usd") BigDecimal costUsd,
                         @JsonProperty("unpriced_answers") long unpricedAnswers,
                         @JsonProperty("cached_prompt_tokens") long cachedPromptTokens,
                         @JsonProperty("reasoning_tokens") long reasoningTokens) {
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    /** The {@code user} value that asks for every user's usage (administrators only). */
    public static final String EVERYONE = "*";

    public record Report(String from, String to, @JsonProperty("group_by") String groupBy, String user,
                         List<Totals> groups, Totals total, @JsonProperty("next_cursor") String nextCursor) {
    }

    /** Where a page of groups continues: the query of the first page and the key of the last group shown. */
    private record Position(String group, String subject, Instant start, Instant end, String afterKey) {
    }

    /**
     * A page of the groups (ordered by key), with {@code total} over the whole window, not just the page.
     *
     * @param caller   the authenticated user
     * @param admin    whether the caller has the admin role
     * @param user     the user to report on (admins only; default the caller)
     * @param limit    groups per page, 1 to 200, default 50
     * @param cursor   the previous page's {@code next_cursor}: it carries that page's group_by, user and window (the
     *                 default window ends when the first page was asked for, so later pages and their total describe
     *                 the same range); parameters repeated with it must agree with it
     */
    public Report report(@Variable("user") String caller, @Variable("admin") boolean admin, @Header("from") String from,
                         @Header("to") String to, @Header("group_by") String groupBy, @Header("user") String user,
                         @Header("limit") String limit, @Header("cursor") String cursor) {
        if (caller == null || caller.isEmpty()) {
            // a missing caller is a bug upstream of this bean, never "all users"
            throw new IllegalStateException("no authenticated caller");
        }
        int size = Paging.limit(limit, "limit", Paging.DEFAULT_LIMIT);
        Position after = cursor == null ? null : position(cursor);
        boolean noGroup = groupBy == null || groupBy.isBlank();
        String group = noGroup ? (after == null ? "provider" : after.group()) : groupBy;
        if (!GROUPS.contains(group)) {
            throw ApiError.badRequest("invalid_group_by", "group_by must be provider, model, day, user or variant");
        }
        boolean noUser = user == null || user.isBlank();
        if (noUser && after != null && after.subject() != null) {
            user = after.subject();
            noUser = false;
        }
        // user=* is everyone (administrators only): the gateway-wide report by provider, model, day or variant
        boolean everyone = !noUser && EVERYONE.equals(user);
        if (!noUser && !everyone && !com.cobalt.chat.http.Authenticator.couldBeUserId(user)) {
            // a NUL in it was a 500 internal_error on PostgreSQL (text cannot hold one; data probe, 2026-12-05)
            throw ApiError.badRequest("invalid_parameter", "user must be a user id (at most 255 characters, no"
                    + " control characters) or *");
        }
        boolean otherUser = !noUser && !user.equals(caller);
        // everyone is checked by itself: a non-admin whose sub is "*" names itself, and passed the other-user check
        if ((everyone || otherUser || group.equals("user")) && !admin) {
            throw new ApiError(403, "forbidden", "Only administrators may see other users' usage");
        }
        Instant end = to == null || to.isBlank() ? (after == null ? clock.instant() : after.end()) : instant(to, true);
        Instant start = from == null || from.isBlank()
                ? (after == null || !(to == null || to.isBlank()) ? end.minus(DEFAULT_WINDOW) : after.start())
                : instant(from, false);
        if (!start.isBefore(end)) {
            throw ApiError.badRequest("invalid_parameter", "from must be before to");
        }
        // admins grouping by user see everyone unless they name a user
        String subject = everyone || (group.equals("user") && noUser) ? null : otherUser ? user : caller;
        if (after != null && !(after.group().equals(group) && java.util.Objects.equals(after.subject(), subject)
                && after.start().equals(start) && after.end().equals(end))) {
            // the cursor is a position in another report: its key would skip or repeat groups of this one
            throw Paging.invalidCursor("cursor");
        }

        TreeMap<String, Sum> groups = new TreeMap<>();
        String dropped = null;
        Sum total = new Sum();
        String sql = "SELECT user_id, provider, model, prompt_tokens, completion_tokens, tokens_estimated, cost_usd,"
                + " created_at, variant, cached_tokens, reasoning_tokens FROM llm_usage WHERE created_at >= ? AND created_at < ?"
                + (subject == null ? "" : " AND user_id = ?");
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, start.atOffset(ZoneOffset.UTC));
            ps.setObject(2, end.atOffset(ZoneOffset.UTC));
            if (subject != null) {
                ps.setString(3, subject);
            }
            ps.setFetchSize(1000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String key = switch (group) {
                        case "user" -> rs.getString(1);
                        case "model" -> rs.getString(3);
                        // the A/B arm; answers outside any split are "none", as on the metrics
                        case "variant" -> rs.getString(9) == null ? ChatRecorder.NO_VARIANT : rs.getString(9);
                        case "day" -> rs.getObject(8, OffsetDateTime.class).withOffsetSameInstant(ZoneOffset.UTC)
                                .toLocalDate().toString();
                        default -> rs.getString(2);
                    };
                    int prompt = rs.getInt(4);
                    int completion = rs.getInt(5);
                    boolean estimated = rs.getBoolean(6);
                    BigDecimal cost = rs.getBigDecimal(7);
                    int cached = rs.getInt(10);
                    int reasoning = rs.getInt(11);
                    total.add(prompt, completion, estimated, cost, cached, reasoning);
                    // only the first size + 1 groups after the cursor are kept (the last one tells that another
                    // page follows), so memory follows the page, not the number of groups; the total counts every
                    // row. Once a group was dropped, no key at or after it can be among the first size + 1.
                    if ((after == null || key.compareTo(after.afterKey()) > 0)
                            && (dropped == null || key.compareTo(dropped) < 0)) {
                        groups.computeIfAbsent(key, k -> new Sum()).add(prompt, completion, estimated, cost, cached,
                                reasoning);
                        if (groups.size() > size + 1) {
                            dropped = groups.pollLastEntry().getKey();
                        }
                    }
                }
            }
        } catch (SQLException e) {
            throw new ChatStore.StorageException(e);
        }
        List<Totals> rows = new ArrayList<>();
        groups.forEach((key, sum) -> rows.add(sum.totals(key)));
        String next = null;
        if (rows.size() > size) {
            rows.remove(size);
            next = Paging.cursor("usage", group, subject, start.toString(), end.toString(),
                    rows.get(size - 1).key());
        }
        return new Report(start.toString(), end.toString(), group, subject, rows, total.totals(null), next);
    }

    private static Position position(String cursor) {
        List<JsonNode> parts = Paging.parts(cursor, "cursor", "usage", 5);
        String group = Paging.text(parts.get(0), false, "cursor");
        String subject = Paging.text(parts.get(1), true, "cursor");
        String key = Paging.text(parts.get(4), false, "cursor");
        if (!GROUPS.contains(group)) {
            throw Paging.invalidCursor("cursor");
        }
        try {
            return new Position(group, subject, Instant.parse(Paging.text(parts.get(2), false, "cursor")),
                    Instant.parse(Paging.text(parts.get(3), false, "cursor")), key);
        } catch (DateTimeParseException e) {
            throw Paging.invalidCursor("cursor");
        }
    }

    /** Running sums of one group. */
    private static final class Sum {
        long answers;
        long prompt;
        long completion;
        long estimatedAnswers;
        long estimatedPrompt;
        long estimatedCompletion;
        long unpriced;
        long cached;
        long reasoning;
        BigDecimal cost;

        void add(int promptTokens, int completionTokens, boolean estimated, BigDecimal costUsd, int cachedTokens,
                 int reasoningTokens) {
            answers++;
            cached += cachedTokens;
            reasoning += reasoningTokens;
            prompt += promptTokens;
            completion += completionTokens;
            if (estimated) {
                estimatedAnswers++;
                estimatedPrompt += promptTokens;
                estimatedCompletion += completionTokens;
            }
            if (costUsd == null) {
                unpriced++;
            } else {
                cost = cost == null ? costUsd : cost.add(costUsd);
            }
        }

        Totals totals(String key) {
            return new Totals(key, answers, prompt, completion, estimatedAnswers, estimatedPrompt,
                    estimatedCompletion, cost == null ? null : cost.stripTrailingZeros(), unpriced, cached, reasoning);
        }
    }

    private static Instant instant(String value, boolean endOfDay) {
        try {
            if (value.length() == 10) {
                LocalDate day = LocalDate.parse(value);
                return (endOfDay ? day.plusDays(1) : day).atStartOfDay(ZoneOffset.UTC).toInstant();
            }
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException e) {
            throw ApiError.badRequest("invalid_parameter",
                    "from and to must be dates (2026-11-26) or ISO instants (2026-11-26T10:00:00Z)");
        }
    }
}
