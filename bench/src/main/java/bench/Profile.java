package bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * What a JFR recording of the gateway says about where its CPU went: execution samples (jdk.ExecutionSample) by
 * their top frame (self) and, for the gateway's own steps, by any frame on the stack (inclusive), by thread group;
 * and allocation samples by the first gateway, H2 or Camel frame (each thread's first sample left out: see read).
 */
final class Profile {

    /** Steps of a chat, matched against "Class.method" of any frame (inclusive share). */
    static final Map<String, String> STEPS = new LinkedHashMap<>();

    static {
        STEPS.put("admission (LimitLedger.admit)", "LimitLedger.admit");
        STEPS.put("  of which: first message since (index probe)", "LimitLedger.firstSince");
        STEPS.put("  of which: count open stream slots", "LimitLedger.count");
        STEPS.put("release (LimitLedger.release)", "LimitLedger.release");
        STEPS.put("load session + history (ChatStore.loadContext)", "ChatStore.loadContext");
        STEPS.put("store user message (ChatStore.saveUserMessage)", "ChatStore.saveUserMessage");
        STEPS.put("store answer + usage (ChatRecorder.record)", "ChatRecorder.record");
        STEPS.put("observe (metrics, JSON log line)", "ExchangeObserver.observe");
        STEPS.put("authenticate", "Authenticator.userOf");
        STEPS.put("open upstream (UpstreamClient)", "UpstreamClient.");
        STEPS.put("relay (RelaySession)", "RelaySession.");
        STEPS.put("H2 (org.h2)", "org.h2.");
        STEPS.put("Hikari pool", "com.zaxxer.hikari.");

        STEPS.put("Resilience4j breaker", "io.github.resilience4j.");
        STEPS.put("Micrometer", "io.micrometer.");
        STEPS.put("logging (logback/slf4j)", "ch.qos.logback.");

        STEPS.put("JSON (Jackson)", "com.fasterxml.jackson.");
    }

    final int samples;
    final Map<String, Integer> byThread = new TreeMap<>();
    final Map<String, Integer> selfTop = new LinkedHashMap<>();
    final Map<String, Integer> inclusive = new LinkedHashMap<>();
    final Map<String, Long> allocTop = new LinkedHashMap<>();
    final long allocSampledBytes;

    private Profile(int samples, long allocSampledBytes) {
        this.samples = samples;
        this.allocSampledBytes = allocSampledBytes;
    }

    static Profile read(Path file) throws Exception {
        Map<String, Integer> self = new TreeMap<>();
        Map<String, Integer> incl = new TreeMap<>();
        Map<String, Integer> threads = new TreeMap<>();
        Map<String, Long> alloc = new TreeMap<>();
        int samples = 0;
        long allocBytes = 0;
        List<RecordedEvent> events = new ArrayList<>(RecordingFile.readAllEvents(file));
        // in time order: a thread's first allocation sample is told apart below
        events.sort(Comparator.comparing(RecordedEvent::getStartTime));
        Set<Long> allocatingThreads = new HashSet<>();
        for (RecordedEvent e : events) {
            String type = e.getEventType().getName();
            RecordedStackTrace st = e.getStackTrace();
            if (st == null || st.getFrames().isEmpty()) {
                continue;
            }
            List<RecordedFrame> frames = st.getFrames();
            if (type.equals("jdk.ExecutionSample")) {
                samples++;
                self.merge(name(frames.get(0)), 1, Integer::sum);
                String thread = e.getThread("sampledThread") == null ? "?" : e.getThread("sampledThread").getJavaName();
                threads.merge(thread == null ? "?" : thread.replaceAll("\\d+", "#"), 1, Integer::sum);
                Set<String> seen = new HashSet<>();
                for (RecordedFrame f : frames) {
                    String n = name(f);
                    for (Map.Entry<String, String> step : STEPS.entrySet()) {
                        if (n.contains(step.getValue()) && seen.add(step.getKey())) {
                            incl.merge(step.getKey(), 1, Integer::sum);
                        }
                    }
                }
            } else if (type.equals("jdk.ObjectAllocationSample")) {
                // a sample weighs what its thread allocated since its previous sample, and a thread's first sample
                // in the recording what it allocated since it started: one such sample of an event loop weighed
                // 18.9 GB, eight times the rest of a run together, and put 41% on whatever frame it happened to hit
                RecordedThread thread = e.getThread("eventThread");
                if (thread == null || allocatingThreads.add(thread.getId())) {
                    continue;
                }
                long w = e.getLong("weight");
                allocBytes += w;
                String where = name(frames.get(0));
                for (RecordedFrame f : frames) {
                    String n = name(f);
                    if (n.startsWith("com.cobalt") || n.startsWith("org.h2") || n.startsWith("org.apache.camel")) {
                        where = n;
                        break;
                    }
                }
                alloc.merge(where, w, Long::sum);
            }
        }
        Profile p = new Profile(samples, allocBytes);
        self.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(15)
                .forEach(en -> p.selfTop.put(en.getKey(), en.getValue()));
        STEPS.keySet().forEach(k -> p.inclusive.put(k, incl.getOrDefault(k, 0)));
        threads.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(8)
                .forEach(en -> p.byThread.put(en.getKey(), en.getValue()));
        alloc.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(10)
                .forEach(en -> p.allocTop.put(en.getKey(), en.getValue()));
        return p;
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    String pct(int n) {
        return samples == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * n / samples);
    }

    List<String> lines(String label) {
        List<String> out = new ArrayList<>();
        out.add("JFR profile of the gateway during " + label + ": " + samples + " execution samples.");
        out.add("");
        out.add("| step (any frame on the stack) | share of gateway CPU samples |");
        out.add("|---|---|");
        inclusive.forEach((k, v) -> out.add("| " + k + " | " + pct(v) + " |"));
        out.add("");
        out.add("Top frames (self): " + String.join("; ", selfTop.entrySet().stream()
                .map(e -> e.getKey().replaceAll("^.*\\.([^.]+\\.[^.]+)$", "$1") + " " + pct(e.getValue())).toList()));
        out.add("");
        out.add("Samples by thread: " + String.join("; ", byThread.entrySet().stream()
                .map(e -> e.getKey() + " " + pct(e.getValue())).toList()));
        if (allocSampledBytes > 0) {
            out.add("");
            out.add("Allocation (sampled weight) by first gateway/H2/Camel frame: " + String.join("; ",
                    allocTop.entrySet().stream().map(e -> e.getKey().replaceAll("^.*\\.([^.]+\\.[^.]+)$", "$1") + " "
                            + String.format(Locale.ROOT, "%.0f%%", 100.0 * e.getValue() / allocSampledBytes)).toList()));
        }
        return out;
    }

    JsonObject json() {
        JsonObject incl = new JsonObject();
        inclusive.forEach((k, v) -> incl.put(k, samples == 0 ? 0 : (double) v / samples));
        JsonArray top = new JsonArray();
        selfTop.forEach((k, v) -> top.add(new JsonObject().put("frame", k).put("share", (double) v / samples)));
        JsonObject thr = new JsonObject();
        byThread.forEach((k, v) -> thr.put(k, (double) v / samples));
        return new JsonObject().put("samples", samples).put("inclusive", incl).put("self_top", top).put("threads", thr);
    }
}
