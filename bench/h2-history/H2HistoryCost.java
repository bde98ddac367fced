import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import com.cobalt.chat.store.AnswerRecord;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.Database;
import com.cobalt.chat.store.NewSession;
import com.sun.management.OperatingSystemMXBean;
import com.sun.management.ThreadMXBean;

/**
 * What a session chat's own database work costs the embedded H2 when messages are the size real ones are: the
 * session and its 20 recent messages read, the user's message stored, the answer and its usage stored - through the
 * gateway's own {@link ChatStore}, one thread, against 2,000 sessions whose messages were written round robin (so a
 * session's messages lie on pages shared with other sessions', as they do after a day of traffic). Each option runs
 * on a fresh database file; the options alternate over the rounds. Prints, per chat: wall time, the process's CPU
 * time (H2's background writer included), bytes allocated by all threads, and the database file's size.
 *
 * <pre>java -Xmx1g -cp target/cobalt-chat.jar bench/h2-history/H2HistoryCost.java [seconds, default 10] [rounds, default 2]
 *     [user message chars, default 300] [answer chars, default 1500] [URL settings per option, comma-separated,
 *     default none] [CHAT_HISTORY_CACHE_MB per option, comma-separated, default "0,64"]</pre>
 *
 * The messages' texts are made before the measured chats (a pool of 1,000 of each), so what is counted is the
 * store's work, not the bench's.
 */
public class H2HistoryCost {

    static final int SESSIONS = 2000;
    static final int HISTORY_EXCHANGES = 10;
    static final int TEXTS = 1000;

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int userChars = args.length > 2 ? Integer.parseInt(args[2]) : 300;
        int answerChars = args.length > 3 ? Integer.parseInt(args[3]) : 1500;
        String[] options = (args.length > 4 ? args[4] : "").split(",", -1);
        String[] caches = (args.length > 5 ? args[5] : "0,64").split(",");
        System.out.printf("%d sessions x %d messages, user messages %d chars, answers %d chars, %d s per run, heap %d MB%n",
                SESSIONS, HISTORY_EXCHANGES * 2, userChars, answerChars, seconds,
                Runtime.getRuntime().maxMemory() >> 20);
        System.out.println("| round | URL settings | history cache MB | chats | wall us/chat | CPU us/chat |"
                + " allocated KiB/chat | file MB |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (int r = 1; r <= rounds; r++) {
            for (String option : options) {
                for (String cache : caches) {
                    run(r, option.trim(), Integer.parseInt(cache.trim()), seconds, userChars, answerChars);
                }
            }
        }
    }

    static void run(int round, String option, int cacheMb, int seconds, int userChars, int answerChars)
            throws Exception {
        Path dir = Files.createTempDirectory("h2-history-");
        Random random = new Random(42);
        List<String> users = new ArrayList<>();
        List<String> answers = new ArrayList<>();
        for (int t = 0; t < TEXTS; t++) {
            users.add(text(random, userChars));
            answers.add(text(random, answerChars));
        }
        try (Database database = new Database("jdbc:h2:file:" + dir.resolve("chat") + option, "sa", "", 4)) {
            ChatStore store = new ChatStore(database.dataSource(), Clock.systemUTC(), 20, 1000, (long) cacheMb << 20);
            List<String> sessions = new ArrayList<>();
            for (int i = 0; i < SESSIONS; i++) {
                sessions.add(store.createSession("user-" + i, new NewSession("bench", "You are terse.")).id());
            }
            for (int e = 0; e < HISTORY_EXCHANGES; e++) {
                for (int i = 0; i < SESSIONS; i++) {
                    chatWrites(store, i, sessions.get(i), users.get(i % TEXTS), answers.get((i + e) % TEXTS));
                }
            }
            long warmEnd = System.nanoTime() + 3_000_000_000L;
            int i = 0;
            while (System.nanoTime() < warmEnd) {
                chat(store, i % SESSIONS, sessions.get(i % SESSIONS), users.get(i % TEXTS), answers.get(i * 7 % TEXTS));
                i++;
            }
            ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
            OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long alloc0 = allocated(threads);
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            long end = t0 + seconds * 1_000_000_000L;
            int chats = 0;
            while (System.nanoTime() < end) {
                chat(store, i % SESSIONS, sessions.get(i % SESSIONS), users.get(i % TEXTS), answers.get(i * 7 % TEXTS));
                i++;
                chats++;
            }
            long wall = System.nanoTime() - t0;
            long cpu = os.getProcessCpuTime() - cpu0;
            long alloc = allocated(threads) - alloc0;
            long file = Files.size(dir.resolve("chat.mv.db"));
            System.out.printf("| %d | %s | %d | %d | %.0f | %.0f | %.1f | %d |%n", round,
                    option.isEmpty() ? "(none)" : option, cacheMb, chats, wall / 1000.0 / chats, cpu / 1000.0 / chats, alloc / 1024.0 / chats, file >> 20);
        } finally {
            try (var files = Files.list(dir)) {
                files.forEach(f -> f.toFile().delete());
            }
            Files.deleteIfExists(dir);
        }
    }

    /** One session chat's database work, in the gateway's order: read the context, store the message, the answer. */
    static void chat(ChatStore store, int i, String session, String user, String answer) {
        if (store.sessionContext("user-" + i, session).history().size() != 20) {
            throw new IllegalStateException("expected 20 messages of history");
        }
        chatWrites(store, i, session, user, answer);
    }

    static void chatWrites(ChatStore store, int i, String session, String user, String answer) {
        String exchange = java.util.UUID.randomUUID().toString();
        store.saveUserMessage("user-" + i, session, exchange, user);
        store.saveAnswer(new AnswerRecord(session, exchange, "user-" + i, answer, "complete", "bench", "bench-model",
                "stop", null, 100, 300, false, null, 5L, 50L, null));
    }

    static String text(Random random, int chars) {
        StringBuilder sb = new StringBuilder(chars);
        while (sb.length() < chars) {
            sb.append("word").append(random.nextInt(1000)).append(' ');
        }
        return sb.substring(0, chars);
    }

    static long allocated(ThreadMXBean threads) {
        long sum = 0;
        for (long id : threads.getAllThreadIds()) {
            long a = threads.getThreadAllocatedBytes(id);
            if (a > 0) {
                sum += a;
            }
        }
        return sum;
    }
}
