import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import com.cobalt.chat.http.RequestBodies;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;

/**
 * What reading a {@code /v1/chat/completions} body costs: a request with 21 messages of ordinary ASCII chat text
 * (~2.4 KB) through {@link RequestBodies#jsonObject}, against what it did before fix 30 (every body decoded as strict
 * UTF-8 into a String, then parsed from the String; kept below as {@code decodedFirst}). Prints CPU time and bytes
 * allocated per body on the calling thread, four rounds of 200,000 each, alternating.
 *
 * <pre>java -cp target/cobalt-chat.jar bench/request-body/RequestBodyCost.java</pre>
 */
public class RequestBodyCost {

    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    static JsonNode decodedFirst(byte[] body) throws Exception {
        String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        if (text.isBlank()) {
            throw new IllegalStateException("blank");
        }
        return JSON.readTree(text);
    }

    public static void main(String[] args) throws Exception {
        StringBuilder json = new StringBuilder("{\"model\":\"cobalt-demo\",\"stream\":true,\"messages\":[");
        for (int i = 0; i < 21; i++) {
            json.append(i > 0 ? "," : "").append("{\"role\":\"").append(i % 2 == 0 ? "user" : "assistant")
                    .append("\",\"content\":\"Message number ").append(i)
                    .append(" of the history, a sentence or two of ordinary chat text to carry.\"}");
        }
        byte[] body = json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
        DefaultCamelContext camel = new DefaultCamelContext();
        Exchange exchange = new DefaultExchange(camel);
        exchange.getMessage().setHeader("Content-Type", "application/json");
        exchange.getMessage().setBody(body);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().getId();
        int n = 200_000;
        System.out.println("body: " + body.length + " bytes");
        for (int round = 1; round <= 4; round++) {
            for (String way : new String[] {"decoded first (before)", "RequestBodies.jsonObject"}) {
                long cpu = threads.getCurrentThreadCpuTime();
                long bytes = threads.getThreadAllocatedBytes(self);
                for (int i = 0; i < n; i++) {
                    JsonNode doc = way.startsWith("decoded") ? decodedFirst(body) : RequestBodies.jsonObject(exchange, true);
                    if (doc.size() != 3) {
                        throw new IllegalStateException("not the request");
                    }
                }
                System.out.printf("round %d, %s: %.2f us CPU, %.0f bytes allocated per body%n", round, way,
                        (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / n,
                        (threads.getThreadAllocatedBytes(self) - bytes) / (double) n);
            }
        }
        camel.stop();
    }
}
