import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where the gateway's CPU went in an async-profiler run (`bench/run.sh ... --async-profiler <lib>` writes
 * throughput-gateway.collapsed): shares of the samples by thread, by what the CPU did (Java, the JVM's native code,
 * the kernel's socket, futex and scheduling work, GC, JIT), by library (the innermost library frame of each sample,
 * with the kernel time it caused), the hand-offs between threads, and the share of any frames named on the command
 * line (any frame of the stack containing the text).
 *
 * <pre>java bench/async-profile/Breakdown.java bench/target/throughput-gateway.collapsed [frame text ...]</pre>
 */
public class Breakdown {

    record Sample(String thread, List<String> frames, long count) {
    }

    static final String[][] LIBRARIES = {{"org/h2/", "H2"}, {"com/fasterxml/jackson", "Jackson"},
            {"org/apache/camel/", "Camel's engine"}, {"io/netty/", "Netty"}, {"io/vertx/", "Vert.x"},
            {"org/apache/logging", "Log4j"}, {"io/micrometer", "Micrometer"}, {"com/zaxxer/hikari", "HikariCP"},
            {"com/cobalt/", "the gateway's code"}, {"java/util/concurrent", "java.util.concurrent"},
            {"java/", "the JDK, other"}, {"jdk/", "the JDK, other"}, {"sun/", "the JDK, other"}};

    public static void main(String[] args) throws IOException {
        List<Sample> samples = new ArrayList<>();
        long total = 0;
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            int space = line.lastIndexOf(' ');
            if (space < 0) {
                continue;
            }
            String[] frames = line.substring(0, space).split(";");
            long count = Long.parseLong(line.substring(space + 1));
            samples.add(new Sample(frames[0].replaceAll(" tid=\\d+", "").replaceAll("\\d+", "N"),
                    List.of(frames).subList(1, frames.length), count));
            total += count;
        }
        Map<String, Long> threads = new HashMap<>();
        Map<String, Long> layers = new HashMap<>();
        Map<String, Long> libraries = new HashMap<>();
        long waiting = 0;
        long waking = 0;
        long[] named = new long[args.length];
        for (Sample s : samples) {
            threads.merge(s.thread(), s.count(), Long::sum);
            layers.merge(layer(s), s.count(), Long::sum);
            libraries.merge(library(s.frames()), s.count(), Long::sum);
            if (s.frames().stream().anyMatch(f -> f.contains("Unsafe.park"))) {
                waiting += s.count();
            }
            if (s.frames().stream().anyMatch(f -> f.contains("Unsafe.unpark"))) {
                waking += s.count();
            }
            for (int i = 1; i < args.length; i++) {
                String text = args[i];
                if (s.frames().stream().anyMatch(f -> f.contains(text))) {
                    named[i] += s.count();
                }
            }
        }
        System.out.println(total + " samples");
        print("by thread", threads, total);
        print("by what the CPU did", layers, total);
        print("by library (innermost library frame, with the kernel time it caused)", libraries, total);
        System.out.printf(Locale.ROOT, "%nhand-offs between threads: %.1f%% parking (the side that waits), %.1f%%"
                + " unparking (the side that wakes)%n", 100.0 * waiting / total, 100.0 * waking / total);
        for (int i = 1; i < args.length; i++) {
            System.out.printf(Locale.ROOT, "frames containing %s: %.1f%%%n", args[i], 100.0 * named[i] / total);
        }
    }

    static String layer(Sample s) {
        List<String> kernel = s.frames().stream().filter(f -> f.endsWith("_[k]")).toList();
        if (!kernel.isEmpty()) {
            String k = String.join(" ", kernel);
            if (k.contains("futex")) {
                return "kernel: futex (a thread waking another or going to sleep)";
            }
            if (k.contains("epoll")) {
                return "kernel: epoll";
            }
            if (k.matches(".*(tcp_|sock_|sendmsg|recvmsg|sys_write|sys_read|writev).*")) {
                return "kernel: sockets and files";
            }
            if (k.matches(".*(schedule|irq|apic).*")) {
                return "kernel: interrupts and scheduling";
            }
            return "kernel: other";
        }
        if (s.thread().contains("GC Thread") || s.thread().contains("G1")) {
            return "GC threads";
        }
        if (s.thread().contains("Compiler")) {
            return "JIT compiler threads";
        }
        String leaf = s.frames().isEmpty() ? "" : s.frames().get(s.frames().size() - 1);
        return leaf.contains("/") || leaf.contains(".") ? "Java code" : "the JVM's own native code";
    }

    static String library(List<String> frames) {
        for (int i = frames.size() - 1; i >= 0; i--) {
            String f = frames.get(i);
            if (f.endsWith("_[k]")) {
                continue;
            }
            for (String[] l : LIBRARIES) {
                if (f.startsWith(l[0])) {
                    return l[1];
                }
            }
        }
        return "native, no library frame";
    }

    static void print(String title, Map<String, Long> shares, long total) {
        System.out.println();
        System.out.println("| " + title + " | share |");
        System.out.println("|---|---|");
        shares.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(12)
                .forEach(e -> System.out.printf(Locale.ROOT, "| %s | %.1f%% |%n", e.getKey(),
                        100.0 * e.getValue() / total));
    }
}
