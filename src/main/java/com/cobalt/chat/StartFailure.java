package com.cobalt.chat;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * What a failure during start-up that is not a configuration refusal says to the operator: the messages along its
 * causes, without the stack trace. A route file Camel cannot read names the file, line and column; a missing folder
 * names it. A database error is named by its SQLState and vendor code only: its message carries the statement and
 * its values (README "Security": no SQL and no data in the output).
 */
final class StartFailure {

    /** Long enough for a YAML parser's excerpt with its caret, short enough never to flood a supervisor's log. */
    static final int MAX_LENGTH = 2_000;

    /** H2's "The database is read only" (an embedded file the process may not write). */
    static final String H2_READ_ONLY = "90097";

    /** PostgreSQL's "permission denied" (a role that may read the tables but not write them, say). */
    static final String INSUFFICIENT_PRIVILEGE = "42501";

    private StartFailure() {
    }

    static String describe(Throwable failure) {
        List<String> parts = new ArrayList<>();
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (c instanceof SQLException sql) {
                parts.add("the database refused a statement (" + c.getClass().getSimpleName() + ", SQLState "
                        + sql.getSQLState() + ", error " + sql.getErrorCode() + ")"
                        + hint(sql.getSQLState()));
                break;
            }
            if (c.getClass().getName().startsWith("org.flywaydb.")) {
                // Flyway's messages quote the migration's statements
                parts.add("the schema migration failed (" + c.getClass().getSimpleName() + ")");
                continue;
            }
            String message = c.getMessage();
            if (message == null || message.isBlank() || wraps(c, message)) {
                continue;
            }
            // a file system exception's message is only the path
            String text = c instanceof java.io.IOException && !message.strip().contains(" ")
                    ? c.getClass().getSimpleName() + ": " + message.strip() : message.strip();
            if (parts.stream().noneMatch(p -> p.contains(text))) {
                parts.add(text);
            }
        }
        if (parts.isEmpty()) {
            parts.add(failure.getClass().getSimpleName());
        }
        String all = String.join("\n  caused by: ", parts);
        return all.length() <= MAX_LENGTH ? all : all.substring(0, MAX_LENGTH) + " ...";
    }

    /** What to mend for the refusals an operator can mend: said nothing but the SQLState for 42501 (data probe). */
    private static String hint(String state) {
        if (H2_READ_ONLY.equals(state)) {
            return ": the database is read-only; check that the user running the gateway may write CHAT_DB_URL's file";
        }
        if (INSUFFICIENT_PRIVILEGE.equals(state)) {
            return ": the database user (CHAT_DB_USER) lacks a privilege; it must be able to read and write the"
                    + " gateway's tables";
        }
        return "";
    }

    /** A wrapper whose message is only its cause's (RuntimeCamelException(cause) and the like). */
    private static boolean wraps(Throwable t, String message) {
        Throwable cause = t.getCause();
        return cause != null && (message.equals(cause.toString()) || message.equals(cause.getMessage()));
    }
}
