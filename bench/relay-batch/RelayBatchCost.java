import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

import com.cobalt.chat.openai.OpenAiChunks;
import io.vertx.core.buffer.Buffer;

/**
 * What making and gathering an answer's client events costs the relay when the whole answer came before the relay
 * attached (a short answer in one read, as the bench's fake sends it): twenty OpenAI chat.completion.chunk deltas
 * (the first with its role chunk) and the finish chunk, into the one Vert.x buffer written when the relay attaches.
 * "text": each event built as a String by {@link OpenAiChunks#delta}, held in a list, then copied into a buffer of
 * their total size (389627a to 59d26c1). "bytes": each delta appended by {@link OpenAiChunks#appendDelta} straight into
 * one buffer the size of the upstream read (~6 KB here), as {@code RelaySession} holds them since. Prints bytes
 * allocated and microseconds per answer on the calling thread, five rounds (the first is the JIT's).
 *
 * <pre>java -cp target/cobalt-chat.jar bench/relay-batch/RelayBatchCost.java</pre>
 */
public class RelayBatchCost {

    static final int UPSTREAM_READ = 6_160; // 22 SambaNova-like chunks of ~280 bytes

    static long sink;

    public static void main(String[] args) {
        String[] tokens = new String[20];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = "word" + i + " ";
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        int answers = 200_000;
        for (int round = 1; round <= 5; round++) {
            for (boolean bytes : new boolean[] {false, true}) {
                long allocated = mx.getThreadAllocatedBytes(thread);
                long start = System.nanoTime();
                for (int i = 0; i < answers; i++) {
                    OpenAiChunks format = new OpenAiChunks("chatcmpl-0c6f6a5e-2b1f-4a7e-9a3c-5d2e8f7b1a90", 1764800000L,
                            "Meta-Llama-3.3-70B-Instruct", true, false);
                    sink += (bytes ? asBytes(format, tokens) : asText(format, tokens)).length();
                }
                long nanos = System.nanoTime() - start;
                allocated = mx.getThreadAllocatedBytes(thread) - allocated;
                System.out.printf("round %d, %-6s %,d bytes allocated, %.2f us per answer%n", round,
                        bytes ? "bytes:" : "text:", allocated / answers, nanos / 1000.0 / answers);
            }
        }
    }

    static Buffer asText(OpenAiChunks format, String[] tokens) {
        List<String> held = new ArrayList<>();
        for (String token : tokens) {
            held.add(format.delta(token));
        }
        held.add(format.finished("stop"));
        int size = 0;
        for (String event : held) {
            size += event.length();
        }
        Buffer batch = Buffer.buffer(size + 64);
        for (String event : held) {
            batch.appendString(event);
        }
        return batch;
    }

    static Buffer asBytes(OpenAiChunks format, String[] tokens) {
        Buffer held = Buffer.buffer(UPSTREAM_READ + 256);
        held.appendString(format.delta(tokens[0]));
        for (int i = 1; i < tokens.length; i++) {
            format.appendDelta(tokens[i], held);
        }
        held.appendString(format.finished("stop"));
        return held;
    }
}
