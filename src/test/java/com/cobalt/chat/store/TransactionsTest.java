package com.cobalt.chat.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import com.cobalt.chat.testing.Postgres;
import org.junit.jupiter.api.Test;

/**
 * A transaction that does not wait for the disk on commit is that on PostgreSQL for itself only: the pooled connection
 * goes back with the database's own setting, and a failed one is rolled back like any other.
 */
class TransactionsTest {

    @Test
    void onPostgresOnlyThatTransactionCommitsWithoutWaitingForTheDisk() throws Exception {
        try (Postgres.Schema schema = Postgres.newSchema("transactions");
             Database database = new Database(schema.url(), Postgres.USER, "", 2);
             Connection c = database.dataSource().getConnection()) {
            assertThat(synchronousCommit(c)).isEqualTo("on");
            String inside = Transactions.inTransactionWithoutDiskWait(c, tx -> {
                execute(tx, "INSERT INTO user_limit_lock (user_id, last_seq) VALUES ('ada', 1)");
                return synchronousCommit(tx);
            });
            assertThat(inside).isEqualTo("off");
            assertThat(synchronousCommit(c)).isEqualTo("on");
            assertThat(c.getAutoCommit()).isTrue();
            assertThat(Transactions.inTransaction(c, TransactionsTest::synchronousCommit)).isEqualTo("on");
            assertThat(count(c, "ada")).isEqualTo(1);

            assertThatThrownBy(() -> Transactions.inTransactionWithoutDiskWait(c, tx -> {
                execute(tx, "INSERT INTO user_limit_lock (user_id, last_seq) VALUES ('ben', 1)");
                execute(tx, "INSERT INTO user_limit_lock (user_id, last_seq) VALUES ('ada', 2)");
                return null;
            })).isInstanceOf(SQLException.class);
            assertThat(count(c, "ben")).isZero();
            assertThat(synchronousCommit(c)).isEqualTo("on");
        }
    }

    @Test
    void onH2ItIsAnOrdinaryTransaction() throws Exception {
        try (Database database = new Database("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 2);
             Connection c = database.dataSource().getConnection()) {
            Transactions.inTransactionWithoutDiskWait(c, tx -> {
                execute(tx, "INSERT INTO user_limit_lock (user_id, last_seq) VALUES ('ada', 1)");
                return null;
            });
            assertThat(count(c, "ada")).isEqualTo(1);
            assertThat(c.getAutoCommit()).isTrue();
        }
    }

    private static String synchronousCommit(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW synchronous_commit")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static int count(Connection c, String user) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM user_limit_lock WHERE user_id = '" + user + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
