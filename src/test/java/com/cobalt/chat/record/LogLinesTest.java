package com.cobalt.chat.record;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.SimpleMessage;
import org.junit.jupiter.api.Test;

/**
 * What the gateway's log4j2.xml writes, through its own appenders' layouts: one line per event whatever a message
 * holds (a caller cannot forge a line with CR/LF in a value such as a JWT sub), and no exception message - they
 * carry SQL and data values - while still saying where the failure was thrown.
 */
class LogLinesTest {

    static final String FORGED = "alice\r\n2026-01-01T00:00:00,000 INFO  [main] Authenticator - admin logged in\n";

    static String render(String appender, LogEvent event) {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Appender a = context.getConfiguration().getAppenders().get(appender);
        assertThat(a).as(appender).isNotNull();
        return a.getLayout().toSerializable(event).toString();
    }

    static LogEvent event(String logger, String message, Throwable thrown) {
        return Log4jLogEvent.newBuilder().setLoggerName(logger).setLevel(Level.WARN)
                .setMessage(new SimpleMessage(message)).setThrown(thrown).build();
    }

    @Test
    void crAndLfInAMessageAreEncodedOnBothAppenders() {
        String console = render("console", event("com.cobalt.chat.http.Authenticator", "Refused user " + FORGED, null));
        String exchange = render("exchanges", event("cobalt.exchange", "{\"user_id\":\"" + FORGED + "\"}", null));

        for (String line : new String[] {console, exchange}) {
            assertThat(line).endsWith(System.lineSeparator());
            assertThat(line.substring(0, line.length() - System.lineSeparator().length())).doesNotContain("\r", "\n");
            assertThat(line).contains("alice\\r\\n2026-01-01T00:00:00,000 INFO  [main] Authenticator - admin logged in\\n");
        }
    }

    @Test
    void anExceptionIsOneLineWithoutItsMessageOrItsCauses() {
        SQLException sql = new SQLException("Unique index violation; SQL statement: INSERT INTO chat_message VALUES "
                + "('secret-user', 'the message text')", new IllegalStateException("value 'other-secret'\r\nforged"));
        String line = render("console", event("com.zaxxer.hikari.pool.ProxyConnection", "Connection failed", sql));

        assertThat(line).doesNotContain("secret-user").doesNotContain("the message text").doesNotContain("other-secret")
                .doesNotContain("INSERT");
        assertThat(line.substring(0, line.length() - System.lineSeparator().length())).doesNotContain("\r", "\n");
        assertThat(line).contains("Connection failed (thrown in " + LogLinesTest.class.getName()
                + " anExceptionIsOneLineWithoutItsMessageOrItsCauses, line ");
    }
}
