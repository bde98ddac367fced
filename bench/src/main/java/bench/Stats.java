package bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Percentiles (nearest rank) of a set of durations in nanoseconds, shown in milliseconds. */
final class Stats {

    private final long[] sorted;

    Stats(List<Long> nanos) {
        this.sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    Stats(long[] nanos) {
        this.sorted = nanos.clone();
        Arrays.sort(this.sorted);
    }

    int count() {
        return sorted.length;
    }

    double pMs(double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1e6;
    }

    double maxMs() {
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6;
    }

    double minMs() {
        return sorted.length == 0 ? Double.NaN : sorted[0] / 1e6;
    }

    double meanMs() {
        return sorted.length == 0 ? Double.NaN : Arrays.stream(sorted).average().orElse(0) / 1e6;
    }

    /** "p50 / p95 / p99" in ms. */
    String p50p95p99() {
        return ms(pMs(50)) + " / " + ms(pMs(95)) + " / " + ms(pMs(99));
    }

    /** "p50 / p99 / max" in ms. */
    String p50p99max() {
        return ms(pMs(50)) + " / " + ms(pMs(99)) + " / " + ms(maxMs());
    }

    io.vertx.core.json.JsonObject json() {
        io.vertx.core.json.JsonArray slowest = new io.vertx.core.json.JsonArray();
        for (int i = sorted.length - 1; i >= Math.max(0, sorted.length - 10); i--) {
            slowest.add(sorted[i] / 1e6);
        }
        // the ten slowest samples: whether a p99 is a few outliers (pauses) or a slow tail
        return new io.vertx.core.json.JsonObject().put("n", count()).put("p50", nan(pMs(50))).put("p95", nan(pMs(95)))
                .put("p99", nan(pMs(99))).put("max", nan(maxMs())).put("slowest_ms", slowest);
    }

    private static Double nan(double v) {
        return Double.isNaN(v) ? null : v;
    }

    static String ms(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (Math.abs(v) >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
