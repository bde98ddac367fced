package com.cobalt.chat.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** H2 keeps no trace file: it would hold every failed statement with its SQL and values. */
class DatabaseTraceTest {

    @TempDir
    Path dir;

    @Test
    void aFailedStatementLeavesNoTraceFileNextToTheDatabase() throws Exception {
        try (Database db = new Database("jdbc:h2:file:" + dir.resolve("chat"), "sa", "", 2)) {
            try (Connection c = db.dataSource().getConnection();
                 PreparedStatement insert = c.prepareStatement(
                         "INSERT INTO chat_session (id, user_id, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")) {
                insert.setString(1, "not-a-uuid");
                insert.setString(2, "secret-user");
                insert.setString(3, "secret title");
                insert.setString(4, "not a time");
                insert.setString(5, "not a time");
                assertThatThrownBy(insert::executeUpdate).isInstanceOf(SQLException.class);
            }
            try (Connection c = db.dataSource().getConnection()) {
                assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT secret FROM no_such_table"))
                        .isInstanceOf(SQLException.class);
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("chat.mv.db");
        }
    }

    @Test
    void theTraceSettingIsAddedToH2UrlsOnlyAndAUsersOwnIsKept() {
        assertThat(Database.h2Settings("jdbc:h2:file:./data/cobalt-chat")).contains(";TRACE_LEVEL_FILE=0");
        assertThat(Database.h2Settings("jdbc:h2:mem:x;trace_level_file=2")).doesNotContain("TRACE_LEVEL_FILE=0")
                .contains("trace_level_file=2");
        assertThat(Database.h2Settings("jdbc:postgresql://db/chat")).isEqualTo("jdbc:postgresql://db/chat");
    }
}
