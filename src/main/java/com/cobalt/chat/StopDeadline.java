package com.cobalt.chat;

import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bound of the whole stop (README "Shutdown, step by step": CHAT_SHUTDOWN_GRACE_SECONDS + 15 s). Camel's own
 * timeout bounds the wait for the exchanges in flight, but not the clean-up after it - storing the limit counts,
 * closing the pool - and with the database unresponsive each of those waited for its socket timeout: a stop took 49 s
 * against a documented 35 (black-box probe), and Kubernetes would have killed the pod mid-way.
 *
 * <p>A JVM shutdown hook (SIGTERM, or the end of main) starts a daemon thread that halts the process once the bound
 * has passed; a stop that ends in time ends the JVM first, and the daemon with it. Only the gateway's own process
 * installs it ({@link Application}): a JVM that runs gateways and goes on (the tests') is never halted.
 */
final class StopDeadline {

    private static final Logger LOG = LoggerFactory.getLogger(StopDeadline.class);
    /** What a stop cut short at its bound exits with: 128 + SIGTERM, as a stop that ended on its own. */
    static final int EXIT_CODE = 143;
    /** Until the gateway has started and set it: the default grace (20 s) plus 15 s. */
    private static volatile long boundSeconds = 35;

    private StopDeadline() {
    }

    /** The bound of a stop from now on (GatewayLifecycle, from CHAT_SHUTDOWN_GRACE_SECONDS). */
    static void bound(long seconds) {
        boundSeconds = seconds;
    }

    static void install() {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            long bound = boundSeconds;
            Thread deadline = new Thread(() -> {
                try {
                    TimeUnit.SECONDS.sleep(bound);
                } catch (InterruptedException e) {
                    return;
                }
                LOG.warn("The stop took longer than {} s (CHAT_SHUTDOWN_GRACE_SECONDS + 15): halting", bound);
                Runtime.getRuntime().halt(EXIT_CODE);
            }, "stop-deadline");
            deadline.setDaemon(true);
            deadline.start();
        }, "stop-deadline-hook"));
    }
}
