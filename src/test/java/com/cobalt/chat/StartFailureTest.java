package com.cobalt.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.NoSuchFileException;
import java.sql.SQLException;

import org.apache.camel.RuntimeCamelException;
import org.junit.jupiter.api.Test;

/** What a start-up failure that is not a configuration refusal prints; the process itself: StartupRefusalTest. */
class StartFailureTest {

    @Test
    void aWrapperThatOnlyRepeatsItsCauseIsLeftOutAndAPathIsNamedByItsException() {
        Throwable failure = new RuntimeCamelException(new NoSuchFileException("/srv/cobalt/routez"));

        assertThat(StartFailure.describe(failure)).isEqualTo("NoSuchFileException: /srv/cobalt/routez");
    }

    @Test
    void causesAreListedOnePerLine() {
        Throwable failure = new RuntimeCamelException("Failure creating route from template: provider-call",
                new java.io.FileNotFoundException("Resource not found: file:/srv/cobalt/routes/provider-call.kamelet.yaml"));

        assertThat(StartFailure.describe(failure)).isEqualTo("Failure creating route from template: provider-call\n"
                + "  caused by: Resource not found: file:/srv/cobalt/routes/provider-call.kamelet.yaml");
    }

    /** A database's message quotes the statement and its values: only its codes are printed. */
    @Test
    void aDatabaseErrorIsNamedByItsCodesNeverItsMessage() {
        Throwable failure = new IllegalStateException("storage failure: 90097", new SQLException(
                "The database is read only; SQL statement:\nUPDATE chat_message SET content = 'secret text'", "90097",
                90097));

        assertThat(StartFailure.describe(failure)).isEqualTo("storage failure: 90097\n  caused by: the database"
                + " refused a statement (SQLException, SQLState 90097, error 90097): the database is read-only; check"
                + " that the user running the gateway may write CHAT_DB_URL's file");
    }

    /**
     * A role that may read the tables but not write them passes the migrations and fails the first write at start
     * (the sweep of answers left streaming): it said only "SQLState 42501, error 0" (data probe, 2026-12-05).
     */
    @Test
    void aRefusedPrivilegeNamesTheDatabaseUser() {
        Throwable failure = new IllegalStateException("storage failure: 42501", new SQLException(
                "ERROR: permission denied for table chat_message", "42501", 0));

        assertThat(StartFailure.describe(failure)).isEqualTo("storage failure: 42501\n  caused by: the database"
                + " refused a statement (SQLException, SQLState 42501, error 0): the database user (CHAT_DB_USER)"
                + " lacks a privilege; it must be able to read and write the gateway's tables");
    }

    @Test
    void aFlywayFailureIsNamedWithoutItsMessage() {
        Throwable failure = new org.flywaydb.core.api.FlywayException("Migration V3__x.sql failed: INSERT 'secret'");

        assertThat(StartFailure.describe(failure)).isEqualTo("the schema migration failed (FlywayException)");
    }

    @Test
    void aFailureWithNoMessageIsNamedByItsClassAndALongOneIsCut() {
        assertThat(StartFailure.describe(new IllegalStateException())).isEqualTo("IllegalStateException");
        assertThat(StartFailure.describe(new IllegalStateException("x".repeat(5_000))))
                .hasSize(StartFailure.MAX_LENGTH + 4).endsWith("x ...");
    }
}
