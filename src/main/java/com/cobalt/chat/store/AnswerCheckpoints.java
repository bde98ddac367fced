package com.cobalt.chat.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import com.cobalt.chat.stream.RelaySession;
import com.cobalt.chat.stream.SseRelay;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Variable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Crash safety of the answers being streamed. Every checkpoint interval (CHAT_CHECKPOINT_SECONDS) one thread of its
 * own writes the text of every live answer of the session API in one transaction: a new answer's row is inserted with
 * status {@code streaming}, a grown one's content updated, and every row's lease (this instance's id, an expiry
 * CHAT_STREAM_LEASE_SECONDS ahead) renewed. The finished answer then updates its row (ChatStore.saveAnswer). If the
 * process dies, the row keeps the text of the last checkpoint and its lease runs out.
 *
 * <p>Sweeping: a row left {@code streaming} is stored as {@code interrupted} (error code {@code instance_lost}). An
 * instance alone on its database (embedded H2) sweeps all of them when it starts: nobody else can be streaming them.
 * Instances sharing a database sweep only rows whose lease expired - a dead instance's - at start and on every tick;
 * a live instance's rows are renewed every tick and never expire.
 *
 * <p>No JDBC runs on a Vert.x event loop: {@link #begin} only registers the answer in memory, and {@link LiveAnswer}
 * hands the text over under its own lock.
 */
public class AnswerCheckpoints implements AutoCloseable {

    /** The exchange variable holding the request's {@link LiveAnswer}. */
    public static final String VARIABLE = "liveAnswer";
    public static final String STREAMING = "streaming";
    /** The error code of an answer swept after its instance died. */
    public static final String INSTANCE_LOST = "instance_lost";

    private static final Logger LOG = LoggerFactory.getLogger(AnswerCheckpoints.class);
    /** A lower bound for lease ranges, so the index scan skips the rows without a lease (H2 sorts nulls first). */
    private static final OffsetDateTime EPOCH = OffsetDateTime.of(1970, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);
    /** Only while the session exists: a session deleted mid-stream gets no row (and breaks no batch). Typed
     * parameters: H2 cannot tell a bare parameter's type in a select list. */
    private static final String INSERT = "INSERT INTO chat_message (id, session_id, exchange_id, user_id, role, content,"
            + " status, provider, model, variant, instance_id, lease_until, created_at)"
            + " SELECT CAST(? AS VARCHAR(36)), CAST(? AS VARCHAR(36)), CAST(? AS VARCHAR(36)), CAST(? AS VARCHAR(255)),"
            + " 'assistant', CAST(? AS TEXT), 'streaming', CAST(? AS VARCHAR(32)), CAST(? AS VARCHAR(200)),"
            + " CAST(? AS VARCHAR(200)), CAST(? AS VARCHAR(36)), CAST(? AS TIMESTAMP WITH TIME ZONE),"
            + " CAST(? AS TIMESTAMP WITH TIME ZONE) FROM chat_session WHERE id = ?";
    private static final String UPDATE = "UPDATE chat_message SET content = ?, lease_until = ? WHERE id = ?"
            + " AND status = 'streaming'";
    private static final String RENEW = "UPDATE chat_message SET lease_until = ? WHERE id = ? AND status = 'streaming'";
    /** Rows a sweep marks per transaction: a dead instance's thousands of answers are not one long transaction. */
    static final int SWEEP_BLOCK = 100;
    private static final String MARK = "UPDATE chat_message SET status = 'interrupted', error_code = '" + INSTANCE_LOST
            + "', instance_id = NULL, lease_until = NULL WHERE ";
    private static final String EXPIRED = "lease_until >= ? AND lease_until < ? AND status = 'streaming'";
    /** What the sweep needs of each row it marked, returned by its own statement: only the sweep that marked it. */
    private static final String SWEPT = "id, session_id, exchange_id, user_id, provider, model, variant, content,"
            + " created_at";
    private static final String H2_SWEEP = "SELECT " + SWEPT + " FROM FINAL TABLE (" + MARK + EXPIRED
            + " FETCH FIRST ? ROWS ONLY)";
    /** A block's rows are locked with SKIP LOCKED: an instance sweeping at the same time takes other rows instead of
     * waiting for this block (an instance starting would not listen until the other's sweep committed). The block is
     * picked in a CTE, run once: as {@code id IN (subquery)} PostgreSQL may run the subquery again for each row, each
     * run finding the next rows still streaming, and mark every expired row in one go. */
    private static final String PG_SWEEP = "WITH block AS (SELECT id FROM chat_message WHERE " + EXPIRED
            + " LIMIT ? FOR UPDATE SKIP LOCKED) " + MARK.replace("WHERE ", "FROM block WHERE chat_message.id = block.id")
            + " AND chat_message.status = 'streaming' RETURNING " + qualified(SWEPT);

    private static String qualified(String columns) {
        return "chat_message." + columns.replace(", ", ", chat_message.");
    }

    private final DataSource dataSource;
    private final Clock clock;
    private final Duration interval;
    private final Duration lease;
    private final boolean alone;
    private final int sweepBlock;
    private final String instanceId = UUID.randomUUID().toString();
    private final Map<String, LiveAnswer> live = new ConcurrentHashMap<>();
    private ScheduledExecutorService ticker;
    /** The usage a swept answer is given; null: none (set once at start, before the first sweep). */
    private volatile SweptUsage sweptUsage;
    private volatile int maxContextMessages;
    /** The database is H2 (known after the first checkpoint); only the checkpoint thread reads it. */
    private Boolean h2;
    private long lastWarnNanos;
    private int unwarned;

    /**
     * @param alone the database is embedded: no other instance can use it, so every row left streaming is a dead
     *              answer when this instance starts
     */
    public AnswerCheckpoints(DataSource dataSource, Clock clock, Duration interval, Duration lease, boolean alone) {
        this(dataSource, clock, interval, lease, alone, SWEEP_BLOCK);
    }

    AnswerCheckpoints(DataSource dataSource, Clock clock, Duration interval, Duration lease, boolean alone,
                      int sweepBlock) {
        this.sweepBlock = sweepBlock;
        this.dataSource = dataSource;
        this.clock = clock;
        this.interval = interval;
        this.lease = lease;
        this.alone = alone;
    }

    public String instanceId() {
        return instanceId;
    }

    /**
     * Every answer swept from now on gets a usage row (llm_usage, and its message's usage columns) marked estimated: the
     * prompt as the gateway sent it (the session's system prompt, at most {@code maxContextMessages} earlier messages,
     * the question), the checkpointed text as completion.
     */
    public void estimateSweptUsage(SweptUsage estimate, int maxContextMessages) {
        this.maxContextMessages = maxContextMessages;
        this.sweptUsage = estimate;
    }

    /** The chat-http step once the provider's stream began: the answer joins the next checkpoint. */
    public LiveAnswer begin(@Variable("user") String userId, @Variable("sessionId") String sessionId,
                           @Variable("exchangeId") String exchangeId, @Variable("provider") String provider,
                           @Variable("model") String model, @Variable("variant") String variant,
                           @ExchangeProperty(SseRelay.PROPERTY) Object upstream) {
        if (!(upstream instanceof RelaySession stream) || sessionId == null) {
            return null;
        }
        String storedVariant = variant == null || "none".equals(variant) ? null : variant;
        String storedModel = model != null ? model : stream.target().upstreamName();
        LiveAnswer answer = new LiveAnswer(RowIds.next(), sessionId, exchangeId, userId, provider, storedModel,
                storedVariant, stream);
        live.put(answer.messageId, answer);
        return answer;
    }

    /**
     * The answer ended and is about to be stored: no more checkpoints of it (one being written is waited for). True
     * when a checkpoint may have written its row.
     */
    public boolean finish(LiveAnswer answer) {
        if (answer == null) {
            return false;
        }
        boolean written = answer.finish();
        live.remove(answer.messageId);
        return written;
    }

    /** Answers being checkpointed now. */
    public int liveCount() {
        return live.size();
    }

    /**
     * At start, before any request: the answers a dead instance left streaming become interrupted. Alone on an embedded
     * database, all of them. On a shared one, one block: the ticks sweep the rest while this instance serves. Each row
     * costs a few round trips, so sweeping them all first kept an instance from listening for as long - measured 36 s
     * for 1,000 answers at a 6 ms round trip - and a backlog longer than the startup probe's budget would have had it
     * restarted before it ever listened.
     */
    public int sweepAtStart() {
        int swept = alone ? sweepAll(OffsetDateTime.of(9999, 12, 31, 0, 0, 0, 0, ZoneOffset.UTC), false)
                : sweep(now());
        if (swept > 0) {
            LOG.warn("{} answer(s) were left streaming by {}; stored as interrupted with their checkpointed text",
                    swept, alone ? "the previous run of this gateway" : "instances whose lease expired");
        }
        return swept;
    }

    public void start() {
        ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cobalt-answer-checkpoints");
            t.setDaemon(true);
            return t;
        });
        long ms = interval.toMillis();
        ticker.scheduleWithFixedDelay(this::tick, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** After the streams ended (graceful shutdown): the ticks stop. */
    @Override
    public void close() {
        if (ticker != null) {
            ticker.shutdown();
            try {
                ticker.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** One checkpoint of every live answer, then the sweep of expired leases. */
    void tick() {
        try {
            checkpoint();
            int swept = sweepAll(now(), true);
            if (swept > 0) {
                LOG.warn("{} answer(s) of an instance whose lease expired stored as interrupted", swept);
            }
        } catch (RuntimeException e) {
            warn(e);
        }
    }

    private void checkpoint() {
        long nanos = System.nanoTime();
        List<LiveAnswer.Checkpoint> work = new ArrayList<>();
        for (LiveAnswer a : live.values()) {
            long ended = a.endedNanos();
            if (ended != 0 && nanos - ended > lease.toNanos()) {
                // ended long ago and never finished (its exchange failed on the way): stop renewing it; if the row is
                // still streaming, its lease runs out and it is swept like a dead instance's
                live.remove(a.messageId);
                continue;
            }
            LiveAnswer.Checkpoint c = a.claim();
            if (c != null) {
                work.add(c);
            }
        }
        if (work.isEmpty()) {
            return;
        }
        boolean[] committed = new boolean[work.size()];
        try {
            writeAll(work, committed);
        } catch (SQLException | RuntimeException batchFailed) {
            // one bad row must not keep every answer's checkpoints out: each on its own
            java.util.Arrays.fill(committed, false);
            warn(batchFailed);
            for (int i = 0; i < work.size(); i++) {
                try (Connection c = dataSource.getConnection()) {
                    committed[i] = write(c, List.of(work.get(i)))[0];
                } catch (SQLException | RuntimeException e) {
                    committed[i] = false;
                }
            }
        } finally {
            for (int i = 0; i < work.size(); i++) {
                work.get(i).answer().written(work.get(i), committed[i]);
            }
        }
    }

    private void writeAll(List<LiveAnswer.Checkpoint> work, boolean[] committed) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            boolean[] done = Transactions.inTransaction(c, tx -> write(tx, work));
            System.arraycopy(done, 0, committed, 0, done.length);
            if (h2 == null) {
                h2 = Vendor.of(c) == Vendor.H2;
            }
            if (h2) {
                // H2 writes commits to its file up to WRITE_DELAY (0.5 s) later: a process killed meanwhile would lose
                // this checkpoint. CHECKPOINT writes them now - once a tick, not once a commit.
                try (Statement s = c.createStatement()) {
                    s.execute("CHECKPOINT");
                }
            }
        }
    }

    /** The checkpoints as three batches (inserts, content updates, lease renewals); per checkpoint, whether a row took it. */
    private boolean[] write(Connection c, List<LiveAnswer.Checkpoint> work) throws SQLException {
        OffsetDateTime now = now();
        OffsetDateTime until = now.plus(lease);
        List<Integer> inserts = new ArrayList<>();
        List<Integer> updates = new ArrayList<>();
        List<Integer> renewals = new ArrayList<>();
        for (int i = 0; i < work.size(); i++) {
            switch (work.get(i).kind()) {
                case INSERT -> inserts.add(i);
                case UPDATE -> updates.add(i);
                case RENEW -> renewals.add(i);
            }
        }
        boolean[] took = new boolean[work.size()];
        if (!inserts.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(INSERT)) {
                for (int i : inserts) {
                    LiveAnswer.Checkpoint cp = work.get(i);
                    LiveAnswer a = cp.answer();
                    bind(ps, a.messageId, a.sessionId, a.exchangeId, a.userId, cp.content(), a.provider, a.model,
                            a.variant, instanceId, until, now, a.sessionId);
                    ps.addBatch();
                }
                mark(ps.executeBatch(), inserts, took);
            }
        }
        if (!updates.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(UPDATE)) {
                for (int i : updates) {
                    bind(ps, work.get(i).content(), until, work.get(i).answer().messageId);
                    ps.addBatch();
                }
                mark(ps.executeBatch(), updates, took);
            }
        }
        if (!renewals.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(RENEW)) {
                for (int i : renewals) {
                    bind(ps, until, work.get(i).answer().messageId);
                    ps.addBatch();
                }
                mark(ps.executeBatch(), renewals, took);
            }
        }
        return took;
    }

    private static void mark(int[] counts, List<Integer> which, boolean[] took) {
        for (int k = 0; k < which.size(); k++) {
            took[which.get(k)] = counts[k] > 0 || counts[k] == Statement.SUCCESS_NO_INFO;
        }
    }

    /** A row the sweep marked interrupted. */
    private record Swept(String id, String sessionId, String exchangeId, String userId, String provider, String model,
                         String variant, String content, OffsetDateTime createdAt) {
    }

    /**
     * Sweeps block after block until a block comes back short. A dead instance can leave thousands of answers, each
     * costing a few round trips (its prompt is read for the estimate): swept in one transaction on this thread, its
     * sweep held this instance's own checkpoints back for as long - measured 16 s for 252 rows at a 6 ms round trip,
     * long enough for this instance's own leases to run out, so that a third instance could sweep its live answers -
     * and held the rows' locks just as long, so an instance starting meanwhile did not listen until it committed. Now
     * each block commits on its own and, between blocks, this instance's own answers are checkpointed again once an
     * interval has passed.
     */
    private int sweepAll(OffsetDateTime before, boolean renewOwn) {
        int total = 0;
        long checkpointed = System.nanoTime();
        while (true) {
            int swept = sweep(before);
            total += swept;
            if (swept < sweepBlock) {
                return total;
            }
            if (renewOwn && System.nanoTime() - checkpointed >= interval.toNanos()) {
                checkpoint();
                checkpointed = System.nanoTime();
            }
        }
    }

    /**
     * Marks at most one block of the rows whose lease expired before {@code before} interrupted and gives each its
     * estimated usage, in one transaction. Each row is marked by one sweep only - the statement takes the row's lock and rechecks
     * {@code status = 'streaming'}, so a second instance sweeping at once finds it marked and skips it - and only the
     * sweep that marked it gets it back from its statement and writes its usage (llm_usage's key on the answer's id
     * stands behind that).
     */
    private int sweep(OffsetDateTime before) {
        try (Connection c = dataSource.getConnection()) {
            return Transactions.inTransaction(c, tx -> {
                List<Swept> swept = new ArrayList<>();
                try (PreparedStatement ps = tx.prepareStatement(
                        Vendor.of(tx) == Vendor.POSTGRESQL ? PG_SWEEP : H2_SWEEP)) {
                    bind(ps, EPOCH, before, sweepBlock);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            swept.add(new Swept(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                                    rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8),
                                    rs.getObject(9, OffsetDateTime.class)));
                        }
                    }
                }
                SweptUsage estimate = sweptUsage;
                if (estimate != null) {
                    for (Swept s : swept) {
                        storeUsage(tx, s, estimate);
                    }
                }
                return swept.size();
            });
        } catch (SQLException e) {
            throw new ChatStore.StorageException(e);
        }
    }

    /** The provider produced and billed what the answer streamed before its instance died: estimated, as it is all. */
    private void storeUsage(Connection c, Swept s, SweptUsage estimate) throws SQLException {
        if (s.provider() == null || s.sessionId() == null) {
            return;
        }
        List<ContextMessage> prompt = ChatStore.promptOf(c, s.sessionId(), s.exchangeId(), maxContextMessages);
        SweptUsage.Estimate usage;
        try {
            usage = estimate.estimate(s.provider(), s.model(), prompt, s.content() == null ? "" : s.content());
        } catch (RuntimeException e) {
            // the answer is swept all the same (a sweep that failed would be tried, and fail, at every tick)
            LOG.warn("Could not estimate the usage of a swept answer: {}", e.getClass().getSimpleName());
            return;
        }
        ChatStore.storeSweptUsage(c, s.id(), s.userId(), s.sessionId(), s.provider(), s.model(), s.variant(), usage,
                s.createdAt());
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            if (args[i] == null) {
                ps.setNull(i + 1, java.sql.Types.VARCHAR);
            } else {
                ps.setObject(i + 1, args[i]);
            }
        }
    }

    private OffsetDateTime now() {
        Instant t = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        return t.atOffset(ZoneOffset.UTC);
    }

    /** A failing database is told at most once a minute, by the failure's class (its message can carry SQL). */
    private synchronized void warn(Exception e) {
        long nanos = System.nanoTime();
        if (lastWarnNanos != 0 && nanos - lastWarnNanos < TimeUnit.MINUTES.toNanos(1)) {
            unwarned++;
            return;
        }
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        LOG.warn("Could not checkpoint the answers being streamed: {}{}", cause.getClass().getSimpleName(),
                unwarned > 0 ? " (" + unwarned + " more failure(s) not logged)" : "");
        lastWarnNanos = nanos;
        unwarned = 0;
    }
}
