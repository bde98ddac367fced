package com.cobalt.chat.store;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;

/**
 * Ids of stored sessions and messages: UUIDs of version 7 (RFC 9562), which start with the time in milliseconds and
 * increase within one millisecond. Random (version 4) ids put every new key at a random place in the indexes on them
 * (chat_message.id, llm_usage.message_id, chat_session.id and the (session_id, seq) index), so each insert read and
 * rewrote a cold index page; time-ordered ids append where the last insert was (bench/README.md, fix 13).
 */
final class RowIds {

    private static final TimeBasedEpochGenerator GENERATOR = Generators.timeBasedEpochGenerator();

    private RowIds() {
    }

    static String next() {
        return GENERATOR.generate().toString();
    }
}
