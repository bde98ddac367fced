package com.cobalt.chat.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The H2 settings the gateway adds to an H2 URL, and leaves alone when the URL already has them. */
class DatabaseTest {

    @Test
    void anH2UrlGetsTheGatewaysSettingsAndOthersAreLeftAlone() {
        long heap = 1024L * 1024 * 1024;
        assertThat(Database.h2Settings("jdbc:h2:file:./data/cobalt-chat", heap)).isEqualTo(
                "jdbc:h2:file:./data/cobalt-chat;DB_CLOSE_ON_EXIT=FALSE;QUERY_CACHE_SIZE=64;TRACE_LEVEL_FILE=0;CACHE_SIZE=131072");
        assertThat(Database.h2Settings(
                "jdbc:h2:mem:x;query_cache_size=16;DB_CLOSE_ON_EXIT=TRUE;TRACE_LEVEL_FILE=1;cache_size=2048", heap))
                .isEqualTo("jdbc:h2:mem:x;query_cache_size=16;DB_CLOSE_ON_EXIT=TRUE;TRACE_LEVEL_FILE=1;cache_size=2048");
        assertThat(Database.h2Settings("jdbc:postgresql://db:5432/chat", heap)).isEqualTo("jdbc:postgresql://db:5432/chat");
    }

    /** H2's page cache is an eighth of the heap, never below H2's own 16 MB, never above 1 GB (in KB). */
    @Test
    void theH2PageCacheFollowsTheHeap() {
        assertThat(Database.h2CacheKb(64L * 1024 * 1024)).isEqualTo(16 * 1024);
        assertThat(Database.h2CacheKb(512L * 1024 * 1024)).isEqualTo(64 * 1024);
        assertThat(Database.h2CacheKb(6L * 1024 * 1024 * 1024)).isEqualTo(768 * 1024);
        assertThat(Database.h2CacheKb(32L * 1024 * 1024 * 1024)).isEqualTo(1024 * 1024);
    }

    /** An H2 file database (the default; an in-memory one has no page cache) opens with the heap's page cache, in MB. */
    @Test
    void theOpenedH2FileDatabaseRunsWithTheHeapsPageCache(@TempDir Path dir) throws Exception {
        try (Database database = new Database("jdbc:h2:file:" + dir.resolve("chat"), "sa", "", 2);
             Connection c = database.dataSource().getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(
                     "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'info.CACHE_MAX_SIZE'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(String.valueOf(Database.h2CacheKb(Runtime.getRuntime().maxMemory()) / 1024));
        }
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
