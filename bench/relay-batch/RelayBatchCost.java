import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

import io.vertx.core.buffer.Buffer;

/**
 * What gathering an answer's events into one write costs the relay when the whole answer came before the relay
 * attached (a short answer in one read, as the bench's fake sends it): {@code RelaySession.attach} appends the held
 * client events - twenty OpenAI chat.completion.chunk deltas, the finish chunk and the usage chunk - into one
 * Vert.x buffer (~5.8 KB). "default" is a buffer of Vert.x's default size, grown by Netty as it fills (before 389627a);
 * "sized" is one of the events' total size. Prints bytes allocated and microseconds per answer on the calling thread,
 * five rounds (the first is the JIT's).
 *
 * <pre>java -cp target/cobalt-chat.jar bench/relay-batch/RelayBatchCost.java</pre>
 */
public class RelayBatchCost {

    static final String PREFIX = "data: {\"id\":\"chatcmpl-0c6f6a5e-2b1f-4a7e-9a3c-5d2e8f7b1a90\",\"object\":"
            + "\"chat.completion.chunk\",\"created\":1764800000,\"model\":\"Meta-Llama-3.3-70B-Instruct\","
            + "\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":";

    static long sink;

    public static void main(String[] args) {
        List<String> held = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            held.add(PREFIX + "{\"content\":\"word" + i + " \"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
        }
        held.add(PREFIX + "{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n");
        held.add("data: {\"id\":\"chatcmpl-0c6f6a5e-2b1f-4a7e-9a3c-5d2e8f7b1a90\",\"object\":\"chat.completion.chunk\","
                + "\"choices\":[],\"usage\":{\"prompt_tokens\":412,\"completion_tokens\":20,\"total_tokens\":432}}\n\n");
        int chars = held.stream().mapToInt(String::length).sum();
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        int answers = 200_000;
        for (int round = 1; round <= 5; round++) {
            for (boolean sized : new boolean[] {false, true}) {
                long allocated = mx.getThreadAllocatedBytes(thread);
                long start = System.nanoTime();
                for (int i = 0; i < answers; i++) {
                    sink += gather(held, sized).length();
                }
                long nanos = System.nanoTime() - start;
                allocated = mx.getThreadAllocatedBytes(thread) - allocated;
                System.out.printf("round %d, %-7s %d events, %,d chars: %,d bytes allocated, %.2f us per answer%n",
                        round, sized ? "sized:" : "default:", held.size(), chars, allocated / answers,
                        nanos / 1000.0 / answers);
            }
        }
    }

    static Buffer gather(List<String> held, boolean sized) {
        Buffer batch;
        if (sized) {
            int size = 0;
            for (String event : held) {
                size += event.length();
            }
            batch = Buffer.buffer(size + 64);
        } else {
            batch = Buffer.buffer();
        }
        for (String event : held) {
            batch.appendString(event);
        }
        return batch;
    }
}
