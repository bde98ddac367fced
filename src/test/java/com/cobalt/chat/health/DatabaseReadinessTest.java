package com.cobalt.chat.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.cobalt.chat.store.Database;
import org.apache.camel.health.HealthCheck;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

/** The database readiness check reports the last probe: UP against a reachable database, DOWN naming why otherwise. */
class DatabaseReadinessTest {

    @Test
    void upWhenTheDatabaseAnswersDownWithTheCauseWhenItDoesNot() {
        Database db = new Database("jdbc:h2:mem:readiness;DB_CLOSE_DELAY=-1", "sa", "", 2);
        try (DatabaseReadiness ok = new DatabaseReadiness(db.dataSource())) {
            HealthCheck.Result r = ok.call(Map.of());
            assertThat(r.getState()).isEqualTo(HealthCheck.State.UP);
        } finally {
            db.close();
        }

        JdbcDataSource unreachable = new JdbcDataSource();
        unreachable.setURL("jdbc:h2:tcp://127.0.0.1:1/nowhere");
        try (DatabaseReadiness down = new DatabaseReadiness(unreachable)) {
            HealthCheck.Result r = down.call(Map.of());
            assertThat(r.getState()).isEqualTo(HealthCheck.State.DOWN);
            assertThat(r.getMessage()).hasValue("database not reachable: JdbcSQLNonTransientConnectionException");
            assertThat(down.isLiveness()).isFalse();
            assertThat(down.isReadiness()).isTrue();
        }
    }
}
