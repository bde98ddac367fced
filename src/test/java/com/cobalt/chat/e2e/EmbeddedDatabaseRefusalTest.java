package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.config.InvalidConfigurationException;
import com.cobalt.chat.store.Database;
import com.cobalt.chat.testing.FullDisk;
import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An embedded H2 file the gateway cannot open refuses the start with what is wrong with the file and what to do, in
 * the one configuration refusal (exit 2). Crash probe, 2026-12-05: a second gateway on the same file, a corrupted file
 * and a full disk each said only "CHAT_DB_URL: cannot open the database (MVStoreException, SQLState 90020)" (90030,
 * "IOException, SQLState 90098") - nothing an operator could act on.
 */
class EmbeddedDatabaseRefusalTest {

    @TempDir
    Path dir;

    @Test
    void aFileAnotherGatewayHoldsIsRefusedAsInUse() {
        Path file = dir.resolve("chat");
        // another holder of the file's lock: within one JVM H2 shares a database opened under the same name, so the
        // second opener names the same file through another H2 file system (FullDisk's, with room), and meets the
        // lock as a second process would
        Database holder = new Database("jdbc:h2:file:" + file, "sa", "", 2);
        try {
            assertThat(refusal(FullDisk.h2Url(file))).containsExactly("CHAT_DB_URL: the embedded database's file is"
                    + " in use by another process (SQLState 90020): an H2 file serves one gateway; instances that"
                    + " share a database need PostgreSQL");
        } finally {
            holder.close();
        }
    }

    @Test
    void aCorruptedFileIsRefusedAsCorrupted() throws Exception {
        byte[] garbage = new byte[64 * 1024];
        Arrays.fill(garbage, (byte) 'Z');
        Files.write(dir.resolve("chat.mv.db"), garbage);

        assertThat(refusal("jdbc:h2:file:" + dir.resolve("chat"))).containsExactly("CHAT_DB_URL: the embedded"
                + " database's file is corrupted (SQLState 90030): restore it from a backup, or move it aside to start"
                + " with an empty database");
    }

    @Test
    void aFileThatCannotBeWrittenNamesTheDiskAndTheFolder() {
        FullDisk.fill();
        try {
            assertThat(refusal(FullDisk.h2Url(dir.resolve("chat")))).containsExactly("CHAT_DB_URL: the embedded"
                    + " database's file cannot be written (IOException, SQLState 90028): check the free space on its"
                    + " disk and that the user running the gateway may write its folder");
        } finally {
            FullDisk.free();
        }
    }

    private static List<String> refusal(String url) {
        Throwable failure = catchThrowable(() -> RunningGateway.start(Map.of("llm.provider", "demo",
                "chat.db.url", url)).close());
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (c instanceof InvalidConfigurationException refused) {
                return refused.problems();
            }
        }
        throw new AssertionError("not refused as a configuration problem", failure);
    }
}
