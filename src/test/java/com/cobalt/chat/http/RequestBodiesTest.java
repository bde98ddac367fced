package com.cobalt.chat.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A JSON body read from its bytes when they are all ASCII and decoded as strict UTF-8 otherwise: both ways give the
 * same document and the same errors (the HTTP-level cases are StrictHttpTest's and BadInputTest's).
 */
class RequestBodiesTest {

    static DefaultCamelContext camel;

    @BeforeAll
    static void start() {
        camel = new DefaultCamelContext();
    }

    @AfterAll
    static void stop() {
        camel.stop();
    }

    static Exchange request(byte[] body) {
        Exchange exchange = new DefaultExchange(camel);
        exchange.getMessage().setHeader("Content-Type", "application/json");
        exchange.getMessage().setBody(body);
        return exchange;
    }

    static ApiError refused(byte[] body) {
        return catchThrowableOfType(() -> RequestBodies.jsonObject(request(body), true), ApiError.class);
    }

    @Test
    void asciiAndMultiByteBodiesGiveTheirExactText() {
        JsonNode ascii = RequestBodies.jsonObject(request("{\"content\":\"plain \\u00e9 text\"}"
                .getBytes(StandardCharsets.US_ASCII)), true);
        assertThat(ascii.get("content").asText()).isEqualTo("plain \u00e9 text");

        JsonNode utf8 = RequestBodies.jsonObject(request("{\"content\":\"caf\u00e9 \uD83D\uDE00 \u4e2d\"}"
                .getBytes(StandardCharsets.UTF_8)), true);
        assertThat(utf8.get("content").asText()).isEqualTo("caf\u00e9 \uD83D\uDE00 \u4e2d");
    }

    /**
     * An escaped surrogate that is not half of a pair is no character: refused, since stored it would stay and
     * streamed back it would turn into "?" (black-box audit, 2026-12-04). A pair, an escaped backslash before "u" and
     * a raw supplementary character pass.
     */
    @Test
    void anEscapedLoneSurrogateIsRefusedAndAPairIsNot() {
        String u = "\\u";
        for (String lone : new String[] {u + "d800", u + "DBFF" + "x", u + "dc00", u + "d800" + u + "d800",
                u + "d83d" + "\\n" + u + "de00", "a" + u + "d800"}) {
            ApiError e = refused(("{\"content\":\"" + lone + "\"}").getBytes(StandardCharsets.US_ASCII));
            assertThat(e).as(lone).isNotNull();
            assertThat(e.code()).as(lone).isEqualTo("invalid_json");
            assertThat(e.getMessage()).as(lone).isEqualTo("The body escapes an unpaired surrogate"
                    + " (\\uD800-\\uDFFF alone); it is not Unicode text");
        }
        String pair = RequestBodies.jsonObject(request(("{\"content\":\"" + u + "d83d" + u + "de00" + " and \\\\"
                + "ud800\"}").getBytes(StandardCharsets.US_ASCII)), true).get("content").asText();
        assertThat(pair).isEqualTo(new String(Character.toChars(0x1F600)) + " and \\ud800");
    }

    @Test
    void aBlankBodyIsEmptyWhetherItsWhitespaceIsAsciiOrNot() {
        for (String blank : new String[] {"", " \t\r\n", "\u001c\u000b", "\u2003 \u3000"}) {
            ApiError e = refused(blank.getBytes(StandardCharsets.UTF_8));
            assertThat(e.code()).as("[%s]", blank).isEqualTo("invalid_json");
            assertThat(e.getMessage()).as("[%s]", blank).isEqualTo("The body is empty; a JSON object is required");
        }
        assertThat(RequestBodies.jsonObject(request(" \n".getBytes(StandardCharsets.US_ASCII)), false)).isNull();
    }

    @Test
    void malformedUtf8IsRefusedAndAsciiThatIsNotJsonIsInvalidJson() {
        // an overlong "/" inside a string
        byte[] overlong = {'{', '"', 'a', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'};
        assertThat(refused(overlong).getMessage()).isEqualTo("The body is not valid UTF-8");
        assertThat(refused("{\"a\":".getBytes(StandardCharsets.US_ASCII)).getMessage())
                .isEqualTo("The body is not valid JSON");
        assertThat(refused("{} {}".getBytes(StandardCharsets.US_ASCII)).getMessage())
                .isEqualTo("The body is not valid JSON");
        assertThat(refused("[1]".getBytes(StandardCharsets.US_ASCII)).getMessage())
                .isEqualTo("The body must be a JSON object");
    }
}
