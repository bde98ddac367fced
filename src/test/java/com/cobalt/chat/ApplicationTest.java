package com.cobalt.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;

import org.junit.jupiter.api.Test;

/** What {@link Application#main} sets for the JVM before anything loads. */
class ApplicationTest {

    @Test
    void h2ObjectCacheIsOffUnlessTheCommandLineTurnedItOn() {
        Properties plain = new Properties();
        Application.withoutH2ObjectCache(plain);
        assertThat(plain.getProperty("h2.objectCache")).isEqualTo("false");

        Properties operator = new Properties();
        operator.setProperty("h2.objectCache", "true");
        Application.withoutH2ObjectCache(operator);
        assertThat(operator.getProperty("h2.objectCache")).isEqualTo("true");
    }
}
