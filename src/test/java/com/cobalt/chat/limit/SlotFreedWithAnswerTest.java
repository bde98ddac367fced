package com.cobalt.chat.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.cobalt.chat.store.AnswerRecord;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.Database;
import com.cobalt.chat.store.NewSession;
import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.TestClock;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The end of a chat on the shared limits in PostgreSQL: the answer's (or the usage's) statement also frees the
 * request's stream slot, so its end is one round trip, not two. Two ledgers on one database stand for two instances:
 * the other instance finds the slot free as soon as the answer's statement committed, before any release step.
 */
class SlotFreedWithAnswerTest {

    final TestClock clock = new TestClock(Instant.parse("2026-12-04T18:00:00Z"));
    final List<AutoCloseable> resources = new ArrayList<>();
    /** One stream at a time: a slot still held refuses the user's next admission. */
    final LimitRules oneStream = new LimitRules(1000, 1000, 1);

    @AfterEach
    void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    Database postgres() {
        Postgres.assumeAvailable();
        Postgres.Schema schema = Postgres.newSchema("slot_with_answer");
        resources.add(schema);
        Database database = new Database(schema.url(), Postgres.USER, "", 4);
        resources.add(database);
        return database;
    }

    SharedLimitLedger ledger(Database database) {
        SharedLimitLedger ledger = new SharedLimitLedger(database.dataSource(), clock, oneStream, Duration.ofSeconds(60));
        resources.add(ledger);
        return ledger;
    }

    static AnswerRecord answer(String sessionId, String user) {
        return new AnswerRecord(sessionId, UUID.randomUUID().toString(), user, "Paris.", "complete", "sambanova",
                "llama", "stop", null, 12, 3, false, new BigDecimal("0.0000150000"), 40L, 90L, null);
    }

    @Test
    void theUsagesStatementFreesTheSlotForEveryInstance() {
        Database database = postgres();
        SharedLimitLedger here = ledger(database);
        SharedLimitLedger other = ledger(database);
        ChatStore store = new ChatStore(database.dataSource(), clock);
        UserLimits limits = new UserLimits(here);

        LimitLedger.Admission admitted = here.admit("ada");
        LimitLedgerTest.assertRefusedForStreams(other, "ada");
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.setVariable(UserLimits.SLOT, admitted.slot());
        assertThat(limits.slotToFreeWithAnswer(admitted.slot())).isEqualTo(admitted.slot());

        ChatStore.SavedAnswer saved = store.saveAnswer(answer(null, "ada"), null, false, admitted.slot());

        assertThat(saved.slotFreed()).isTrue();
        LimitLedger.Admission next = other.admit("ada"); // free before any release step ran
        exchange.setVariable(UserLimits.FREED_WITH_ANSWER, admitted.slot());
        limits.release(exchange);
        assertThat(exchange.getVariable(UserLimits.SLOT)).isNull();
        LimitLedgerTest.assertRefusedForStreams(here, "ada"); // the other instance's new slot is left alone
        other.release(next.slot());
        here.admit("ada");
    }

    @Test
    void aSessionsAnswerIsStoredAndItsSlotFreedInOneStatementEvenWhenTheSessionWentMeanwhile() {
        Database database = postgres();
        SharedLimitLedger here = ledger(database);
        ChatStore store = new ChatStore(database.dataSource(), clock);
        String kept = store.createSession("ben", new NewSession(null, null)).id();
        String deleted = store.createSession("ben", new NewSession(null, null)).id();

        LimitLedger.Admission first = here.admit("ben");
        ChatStore.SavedAnswer stored = store.saveAnswer(answer(kept, "ben"), null, false, first.slot());
        assertThat(List.of(stored.stored(), stored.slotFreed())).containsExactly(true, true);
        here.freedWithAnswer(first.slot());

        LimitLedger.Admission second = here.admit("ben");
        store.deleteSession("ben", deleted);
        ChatStore.SavedAnswer gone = store.saveAnswer(answer(deleted, "ben"), null, false, second.slot());
        assertThat(List.of(gone.stored(), gone.slotFreed())).containsExactly(false, true);
        here.admit("ben");
    }

    /** Elsewhere the slot is not in the chat database's statement: the route's release step frees it, as before. */
    @Test
    void onTheEmbeddedDatabaseTheReleaseStepFreesTheSlot() {
        Database database = new Database("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 4);
        resources.add(database);
        LimitLedger local = new LocalLimitLedger(database.dataSource(), clock, oneStream);
        resources.add(local);
        SharedLimitLedger sharedOnH2 = ledger(database);
        for (LimitLedger ledger : List.of(local, sharedOnH2)) {
            UserLimits limits = new UserLimits(ledger);
            LimitLedger.Admission admitted = ledger.admit("cy");
            assertThat(limits.slotToFreeWithAnswer(admitted.slot())).isNull();
            ChatStore.SavedAnswer saved = new ChatStore(database.dataSource(), clock)
                    .saveAnswer(answer(null, "cy"), null, false, null);
            assertThat(saved.slotFreed()).isFalse();
            LimitLedgerTest.assertRefusedForStreams(ledger, "cy");

            Exchange exchange = new DefaultExchange(new DefaultCamelContext());
            exchange.setVariable(UserLimits.SLOT, admitted.slot());
            limits.release(exchange);
            ledger.release(ledger.admit("cy").slot());
        }
    }
}
