package com.cobalt.chat.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.UUID;

import org.junit.jupiter.api.Test;

/** The H2 settings the gateway adds to an H2 URL, and leaves alone when the URL already has them. */
class DatabaseTest {

    @Test
    void anH2UrlGetsTheGatewaysSettingsAndOthersAreLeftAlone() {
        assertThat(Database.h2Settings("jdbc:h2:file:./data/cobalt-chat"))
                .isEqualTo("jdbc:h2:file:./data/cobalt-chat;DB_CLOSE_ON_EXIT=FALSE;QUERY_CACHE_SIZE=64;TRACE_LEVEL_FILE=0");
        assertThat(Database.h2Settings("jdbc:h2:mem:x;query_cache_size=16;DB_CLOSE_ON_EXIT=TRUE;TRACE_LEVEL_FILE=1"))
                .isEqualTo("jdbc:h2:mem:x;query_cache_size=16;DB_CLOSE_ON_EXIT=TRUE;TRACE_LEVEL_FILE=1");
        assertThat(Database.h2Settings("jdbc:postgresql://db:5432/chat")).isEqualTo("jdbc:postgresql://db:5432/chat");
    }

    @Test
    void theOpenedH2DatabaseRunsWithTheLargerQueryCache() throws Exception {
        assertThat(firstValueOnAFreshDatabase(
                "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'QUERY_CACHE_SIZE'"))
                .isEqualTo("64");
    }

    /** The periodic clean-up of old accepted messages reads only the old rows, not the whole table. */
    @Test
    void deletingOldAcceptedMessagesUsesTheTimeIndex() throws Exception {
        assertThat(firstValueOnAFreshDatabase(
                "EXPLAIN DELETE FROM user_request WHERE accepted_at < TIMESTAMP WITH TIME ZONE '2026-11-24 00:00:00Z'"))
                .contains("IX_USER_REQUEST_TIME");
    }

    /** The first column of the first row of a query on a fresh, migrated H2 database; null without a row. */
    private static String firstValueOnAFreshDatabase(String sql) throws Exception {
        try (Database database = new Database("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 2);
             Connection c = database.dataSource().getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
