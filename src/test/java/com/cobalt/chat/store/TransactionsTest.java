package com.cobalt.chat.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import org.junit.jupiter.api.Test;

/** A transaction commits all of its work or none of it, and gives the connection back in autocommit mode. */
class TransactionsTest {

    @Test
    void allOrNothingAndBackInAutocommit() throws Exception {
        try (Database database = new Database("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 2);
             Connection c = database.dataSource().getConnection()) {
            String result = Transactions.inTransaction(c, tx -> {
                execute(tx, "INSERT INTO user_limit_lock (user_id, last_seq) VALUES ('ada', 1)");
                return "done";
            });
            assertThat(result).isEqualTo("done");
            assertThat(count(c, "ada")).isEqualTo(1);
            assertThat(c.getAutoCommit()).isTrue();

            assertThatThrownBy(() -> Transactions.inTransaction(c, tx -> {
                execute(tx, "INSERT INTO user_limit_lock (user_id, last_seq) VALUES ('ben', 1)");
                execute(tx, "INSERT INTO user_limit_lock (user_id, last_seq) VALUES ('ada', 2)");
                return null;
            })).isInstanceOf(SQLException.class);
            assertThat(count(c, "ben")).isZero();
            assertThat(c.getAutoCommit()).isTrue();
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
