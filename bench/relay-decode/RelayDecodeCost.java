import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;

import com.cobalt.chat.stream.ChunkDecoder;
import com.cobalt.chat.stream.ChunkReading;
import com.cobalt.chat.stream.SseDecoder;

/**
 * What reading one streamed chunk costs the relay: the provider's SSE bytes through {@link SseDecoder} into
 * {@link ChunkDecoder}, as {@code RelaySession} feeds them (each network read its own array; one decoder for the stream). A chat.completion.chunk
 * like SambaNova's (~280 bytes, one token of content), twenty to a read. Prints bytes
 * allocated and nanoseconds per chunk on the calling thread, after a warm-up, five rounds.
 *
 * <pre>java -cp target/cobalt-chat.jar bench/relay-decode/RelayDecodeCost.java</pre>
 */
public class RelayDecodeCost {

    static final String CHUNK = "data: {\"id\":\"chatcmpl-8f2a1c6e-3b1d-4c7a-9e55-0a6b2f1d3c4e\",\"object\":\"chat.completion.chunk\","
            + "\"created\":1733180000,\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"system_fingerprint\":\"fastcoe\","
            + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" token%d\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n";

    static final int CHUNKS_PER_READ = 20;

    static long contentChars;

    public static void main(String[] args) {
        StringBuilder read = new StringBuilder();
        for (int i = 0; i < CHUNKS_PER_READ; i++) {
            read.append(CHUNK.formatted(i));
        }
        byte[] wire = read.toString().getBytes(StandardCharsets.UTF_8);
        ChunkDecoder stream = new ChunkDecoder();
        SseDecoder decoder = new SseDecoder(event -> {
            ChunkReading r = stream.read(event);
            contentChars += r.content().length();
        });
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        System.out.printf("%d-byte chunks, %d a read%n%14s %12s%n", wire.length / CHUNKS_PER_READ, CHUNKS_PER_READ,
                "bytes/chunk", "ns/chunk");
        for (int round = 1; round <= 5; round++) {
            int reads = 200_000;
            for (int i = 0; i < 20_000; i++) {
                decoder.feed(wire.clone());
            }
            long bytes = threads.getThreadAllocatedBytes(me);
            long start = System.nanoTime();
            for (int i = 0; i < reads; i++) {
                decoder.feed(wire.clone());
            }
            long nanos = System.nanoTime() - start;
            bytes = threads.getThreadAllocatedBytes(me) - bytes;
            // the copy per read is RelaySession's Buffer.getBytes(), not the decoder's: left out
            long chunks = (long) reads * CHUNKS_PER_READ;
            System.out.printf("%14.0f %12.0f%n", (bytes - (long) reads * (16 + wire.length)) / (double) chunks,
                    nanos / (double) chunks);
        }
        System.out.println("(content chars read: " + contentChars + ")");
    }
}
