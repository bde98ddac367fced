package com.cobalt.chat.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/**
 * Every log line the process writes through Log4j 2 while it is open: an appender added to the root logger and to
 * every configured logger (including {@code cobalt.exchange}, which does not pass its lines on to the root),
 * removed again on close.
 */
public final class LogCapture implements AutoCloseable {

    /** One captured line: logger name, level, the formatted message and the stack trace of its throwable. */
    public record Line(String logger, String level, String message, String thrown) {

        /** Everything of the line that would reach a log file. */
        public String all() {
            return logger + " " + level + " " + message + (thrown == null ? "" : "\n" + thrown);
        }
    }

    private final ConcurrentLinkedQueue<Line> lines = new ConcurrentLinkedQueue<>();
    private final LoggerContext context;
    private final AbstractAppender appender;
    private final List<LoggerConfig> attachedTo = new ArrayList<>();

    private LogCapture() {
        context = (LoggerContext) LogManager.getContext(false);
        appender = new AbstractAppender("capture-" + UUID.randomUUID(), null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                String thrown = null;
                if (event.getThrown() != null) {
                    StringWriter w = new StringWriter();
                    event.getThrown().printStackTrace(new PrintWriter(w));
                    thrown = w.toString();
                }
                lines.add(new Line(event.getLoggerName(), event.getLevel().name(),
                        event.getMessage().getFormattedMessage(), thrown));
            }
        };
    }

    public static LogCapture start() {
        LogCapture c = new LogCapture();
        c.appender.start();
        Configuration config = c.context.getConfiguration();
        c.attachedTo.add(config.getRootLogger());
        config.getLoggers().values().forEach(l -> {
            if (!c.attachedTo.contains(l)) {
                c.attachedTo.add(l);
            }
        });
        for (LoggerConfig l : c.attachedTo) {
            l.addAppender(c.appender, null, null);
        }
        c.context.updateLoggers();
        return c;
    }

    /** A snapshot of the lines so far, in the order they were logged. */
    public List<Line> lines() {
        return List.copyOf(lines);
    }

    /** The lines of one logger. */
    public List<Line> lines(String logger) {
        return lines.stream().filter(l -> l.logger().equals(logger)).toList();
    }

    @Override
    public void close() {
        for (LoggerConfig l : attachedTo) {
            l.removeAppender(appender.getName());
        }
        context.updateLoggers();
        appender.stop();
    }
}
