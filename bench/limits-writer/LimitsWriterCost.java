import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.util.UUID;

import com.cobalt.chat.limit.LimitRules;
import com.cobalt.chat.limit.LocalLimitLedger;
import com.cobalt.chat.store.Database;

/**
 * What one batch of the in-memory ledger's background writer costs: 500 users (each with a lock row from the rounds
 * before) send one message each, and the ledger's close writes the batch on the calling thread - 500 rows into
 * user_request and 500 lock rows moved on, as the writer does every 200 ms under load (the bench's throughput runs
 * admit ~2,500 chats/s over 5,000 users). An in-memory H2 database, 40 rounds; prints the last ten: wall time, CPU
 * and bytes allocated for the batch.
 *
 * <pre>java -cp target/cobalt-chat.jar bench/limits-writer/LimitsWriterCost.java</pre>
 */
public class LimitsWriterCost {

    public static void main(String[] args) {
        int users = 500;
        Database db = new Database("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 4);
        LimitRules rules = new LimitRules(1_000_000_000, 1_000_000_000, 1_000_000_000);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        for (int round = 1; round <= 40; round++) {
            LocalLimitLedger ledger = new LocalLimitLedger(db.dataSource(), Clock.systemUTC(), rules);
            for (int u = 0; u < users; u++) {
                ledger.release(ledger.admit("user-" + u).slot());
            }
            long allocated = mx.getThreadAllocatedBytes(thread);
            long cpu = mx.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            ledger.close();
            long nanos = System.nanoTime() - start;
            cpu = mx.getCurrentThreadCpuTime() - cpu;
            allocated = mx.getThreadAllocatedBytes(thread) - allocated;
            if (round > 30) {
                System.out.printf("round %d: %d users' messages written: %.2f ms, %.2f ms CPU, %,d bytes allocated%n",
                        round, users, nanos / 1e6, cpu / 1e6, allocated);
            }
        }
        db.close();
    }
}
