import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.limit.LimitRules;
import com.cobalt.chat.limit.LocalLimitLedger;
import com.cobalt.chat.store.Database;

/**
 * What the in-memory ledger's persistence costs the machine per accepted message, in steady state: one ledger on an
 * H2 file (as the gateway has it), USERS users sending round robin at RATE messages a second for SECONDS, every
 * message admitted and its slot released on this thread; the ledger's background writer and H2's own background
 * threads do the rest. After the same load for as long unmeasured (the JIT), prints per message the CPU time of the
 * ledger's writer and H2's threads, the process's CPU time minus this thread's (the admissions; GC and JIT are in
 * it), and the bytes allocated by the whole process.
 *
 * Before the measured run the database gets what two days of such traffic leave behind, at PREFILL messages in all:
 * where the schema has no user_limit_count (the ledger before V18) PREFILL rows in user_request spread over the
 * last two days with each user's lock row; with it (V18 and later) one user_limit_count row per user, which is all
 * that ledger keeps. The size of what the writer has to keep in order is what decides its cost.
 *
 * <pre>java -cp target/cobalt-chat.jar bench/limits-writer/LimitsWriterCost.java [users 5000] [rate 2500]
 *     [seconds 20] [prefill 2000000]</pre>
 */
public class LimitsWriterCost {

    public static void main(String[] args) throws Exception {
        int users = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 2500;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        long prefill = args.length > 3 ? Long.parseLong(args[3]) : 2_000_000;
        Path dir = Files.createTempDirectory("limits-writer");
        Database db = new Database("jdbc:h2:file:" + dir.resolve("chat"), "sa", "", 4);
        boolean perUserRows = hasTable(db, "USER_LIMIT_COUNT");
        long t0 = System.nanoTime();
        prefill(db, users, prefill, perUserRows);
        System.out.printf("schema: %s; prefilled in %.1f s; users %d, %d messages/s, %d s%n",
                perUserRows ? "user_limit_count (V18)" : "user_request rows", (System.nanoTime() - t0) / 1e9, users,
                rate, seconds);

        LimitRules rules = new LimitRules(1_000_000_000, 1_000_000_000, 1_000_000_000);
        LocalLimitLedger ledger = new LocalLimitLedger(db.dataSource(), Clock.systemUTC(), rules);
        for (int u = 0; u < users; u++) { // every user read once, before the measured part
            ledger.release(ledger.admit("user-" + u).slot());
        }
        LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        send(ledger, users, rate, seconds, 0); // the same load unmeasured first: the JIT compiles the writer's code
        long processCpu = os.getProcessCpuTime();
        long ownCpu = threads.getCurrentThreadCpuTime();
        long writers = writersCpu(threads);
        long allocated = allAllocated(threads);
        long start = System.nanoTime();
        long sent = send(ledger, users, rate, seconds, (long) rate * seconds);
        long nanos = System.nanoTime() - start;
        long background = (os.getProcessCpuTime() - processCpu) - (threads.getCurrentThreadCpuTime() - ownCpu);
        long written = writersCpu(threads) - writers;
        long bytes = allAllocated(threads) - allocated;
        System.out.printf("%,d messages: the limits writer and H2's threads %.1f us of CPU per message (%.1f%% of a core);"
                        + " all but this thread (GC and JIT included) %.1f us; %,d bytes allocated per message (all"
                        + " threads)%n", sent, written / 1e3 / sent, 100.0 * written / nanos, background / 1e3 / sent,
                bytes / sent);
        ledger.close();
        db.close();
    }

    /** Round robin over the users at the rate for the seconds; returns how many were sent. */
    private static long send(LocalLimitLedger ledger, int users, int rate, int seconds, long offset) {
        long start = System.nanoTime();
        long sent = 0;
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            long due = (System.nanoTime() - start) * rate / 1_000_000_000L;
            for (; sent < due; sent++) {
                ledger.release(ledger.admit("user-" + ((offset + sent) % users)).slot());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        return sent;
    }

    /** CPU time of the ledger's writer and H2's own threads (its serialization and background writer). */
    private static long writersCpu(com.sun.management.ThreadMXBean threads) {
        long sum = 0;
        for (java.lang.management.ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (t != null && (t.getThreadName().startsWith("cobalt-limits-writer") || t.getThreadName().startsWith("H2")
                    || t.getThreadName().startsWith("MVStore"))) {
                sum += Math.max(0, threads.getThreadCpuTime(t.getThreadId()));
            }
        }
        return sum;
    }

    private static long allAllocated(com.sun.management.ThreadMXBean threads) {
        long sum = 0;
        for (long b : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            sum += Math.max(0, b);
        }
        return sum;
    }

    private static boolean hasTable(Database db, String table) throws SQLException {
        try (Connection c = db.dataSource().getConnection();
             ResultSet rs = c.getMetaData().getTables(null, null, table, null)) {
            return rs.next();
        }
    }

    private static void prefill(Database db, int users, long rows, boolean perUserRows) throws SQLException {
        Instant now = Instant.now();
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            if (perUserRows) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO user_limit_count (user_id, day_start, "
                        + "day_count, last_seq, last_accepted_at, recent) VALUES (?, ?, ?, ?, ?, '')")) {
                    for (int u = 0; u < users; u++) {
                        ps.setString(1, "user-" + u);
                        ps.setObject(2, LimitRulesDay.start(now).atOffset(ZoneOffset.UTC));
                        ps.setLong(3, rows / users / 2);
                        ps.setLong(4, rows / users);
                        ps.setObject(5, now.minusSeconds(120).atOffset(ZoneOffset.UTC));
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                c.commit();
                return;
            }
            long span = TimeUnit.DAYS.toMicros(2);
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO user_request (user_id, accepted_at, seq) VALUES (?, ?, ?)")) {
                for (long i = 0; i < rows; i++) {
                    ps.setString(1, "user-" + (i % users));
                    ps.setObject(2, now.minus(span - span * i / rows + 120_000_000L, java.time.temporal.ChronoUnit.MICROS)
                            .atOffset(ZoneOffset.UTC));
                    ps.setLong(3, i / users + 1);
                    ps.addBatch();
                    if (i % 10_000 == 9_999) {
                        ps.executeBatch();
                        c.commit();
                    }
                }
                ps.executeBatch();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO user_limit_lock (user_id, last_seq, last_accepted_at) VALUES (?, ?, ?)")) {
                for (int u = 0; u < users; u++) {
                    ps.setString(1, "user-" + u);
                    ps.setLong(2, rows / users);
                    ps.setObject(3, now.minusSeconds(120).atOffset(ZoneOffset.UTC));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
        }
    }

    /** The UTC day's start, as LimitRules counts days (its own method is not public). */
    private static final class LimitRulesDay {
        static Instant start(Instant now) {
            return now.truncatedTo(java.time.temporal.ChronoUnit.DAYS);
        }
    }
}
