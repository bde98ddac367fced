import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import com.cobalt.chat.store.AnswerRecord;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.Database;
import com.cobalt.chat.store.NewSession;

/**
 * What a session chat's writes cost the embedded H2 database, alone: the user's message (with the session's touch)
 * and the answer (with the touch and its usage row), as ChatStore writes them, round robin over 2,000 sessions of 20
 * stored messages each, in an H2 file as the gateway runs it. Prints, per round of 4,000 chats: wall time, the
 * process's CPU (H2's background threads included) and the bytes all threads allocated, per chat. An argument names a
 * DDL statement run after the prefill (a schema option to compare), e.g.
 *
 * <pre>java -cp target/cobalt-chat.jar bench/chat-writes/ChatWritesCost.java
 * java -cp target/cobalt-chat.jar bench/chat-writes/ChatWritesCost.java "DROP INDEX ix_chat_message_lease"</pre>
 */
public class ChatWritesCost {

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("chat-writes");
        Database db = new Database("jdbc:h2:file:" + dir.resolve("chat"), "sa", "", 10);
        try {
            ChatStore store = new ChatStore(db.dataSource(), Clock.systemUTC());
            int sessions = 2000;
            List<String> ids = new ArrayList<>();
            for (int s = 0; s < sessions; s++) {
                ids.add(store.createSession("user-" + s, new NewSession("s" + s, null, null, null)).id());
            }
            String answer = "The answer, about as long as a short one: " + "word ".repeat(40);
            for (int round = 0; round < 10; round++) {
                for (int s = 0; s < sessions; s++) {
                    chat(store, s, ids.get(s), "prefill-" + round, answer);
                }
            }
            if (args.length > 0) {
                try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
                    st.execute(args[0]);
                }
                System.out.println("after the prefill: " + args[0]);
            }
            com.sun.management.OperatingSystemMXBean os =
                    (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            int chats = 4000;
            int next = 0;
            for (int round = 1; round <= 6; round++) {
                long cpu = os.getProcessCpuTime();
                long allocated = allocated(threads);
                long start = System.nanoTime();
                for (int i = 0; i < chats; i++, next++) {
                    chat(store, next % sessions, ids.get(next % sessions), "m" + next, answer);
                }
                long nanos = System.nanoTime() - start;
                cpu = os.getProcessCpuTime() - cpu;
                allocated = allocated(threads) - allocated;
                System.out.printf("round %d: %d chats, %.1f us wall, %.1f us CPU, %,d bytes allocated per chat%n",
                        round, chats, nanos / 1e3 / chats, cpu / 1e3 / chats, allocated / chats);
            }
        } finally {
            db.close();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static void chat(ChatStore store, int s, String sessionId, String exchange, String answer) {
        String user = "user-" + s;
        store.saveUserMessage(user, sessionId, exchange, "question " + exchange);
        store.saveAnswer(new AnswerRecord(sessionId, exchange, user, answer, "complete", "sambanova", "m", "stop",
                null, 400, 50, false, null, 120L, 300L, null));
    }

    /** Bytes allocated so far by the threads alive now (H2's background threads live as long as the database). */
    static long allocated(com.sun.management.ThreadMXBean threads) {
        long sum = 0;
        for (long b : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            sum += Math.max(0, b);
        }
        return sum;
    }
}
