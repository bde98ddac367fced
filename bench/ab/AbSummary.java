import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The table of an interleaved A/B (bench/ab/run.sh): per run and per side the median (min - max) of the figures
 * bench/README.md compares, read from each run's results.md. Ratios to the direct path and CPU per chat are the
 * figures to read on a host that drifts; chats/s alone moves with it.
 *
 * <pre>java bench/ab/AbSummary.java bench/target/ab [label A] [label B]</pre>
 */
public class AbSummary {

    record Figure(String name, Pattern pattern, int group) {
    }

    static final String NUM = "([0-9.]+)";
    static final List<Figure> READ = List.of(
            new Figure("direct chats/s", rate("direct \\(client -> fake\\)"), 1),
            new Figure("session API chats/s", rate("gateway \\(session API\\)"), 1),
            new Figure("/v1 chats/s", rate("gateway /v1/chat/completions \\(OpenAI-compatible\\)"), 1),
            new Figure("gateway cores, session run", Pattern.compile("CPU, gateway run: gateway " + NUM + " cores"), 1),
            new Figure("gateway cores, /v1 run", Pattern.compile("CPU, /v1 run: gateway " + NUM + " cores"), 1),
            new Figure("allocated per sequential session chat (KiB)",
                    Pattern.compile("allocated per chat[^:]*: " + NUM + " KiB session API"), 1),
            new Figure("allocated per sequential /v1 chat (KiB)",
                    Pattern.compile("KiB session API, " + NUM + " KiB `/v1`"), 1),
            new Figure("TTFT overhead p50, session API (ms)",
                    Pattern.compile("\\*\\*gateway minus direct\\*\\* \\| \\| \\*\\*" + NUM + " / " + NUM), 1),
            new Figure("TTFT overhead p99, session API (ms)",
                    Pattern.compile("\\*\\*gateway minus direct\\*\\* \\| \\| \\*\\*" + NUM + " / " + NUM), 2),
            new Figure("TTFT overhead p50, /v1 (ms)",
                    Pattern.compile("\\*\\*/v1 minus direct\\*\\* \\| \\| \\*\\*" + NUM + " / " + NUM), 1),
            new Figure("TTFT overhead p99, /v1 (ms)",
                    Pattern.compile("\\*\\*/v1 minus direct\\*\\* \\| \\| \\*\\*" + NUM + " / " + NUM), 2));

    static Pattern rate(String row) {
        return Pattern.compile("\\| " + row + " \\| \\d+ \\| \\d+ \\| " + NUM + " \\|");
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "bench/target/ab");
        String[] labels = {args.length > 1 ? args[1] : "A", args.length > 2 ? args[2] : "B"};
        List<Map<String, List<Double>>> sides = new ArrayList<>();
        for (String side : new String[] {"A", "B"}) {
            Map<String, List<Double>> figures = new LinkedHashMap<>();
            for (int run = 1; Files.exists(dir.resolve(side + "-" + run + ".md")); run++) {
                Map<String, Double> r = read(Files.readString(dir.resolve(side + "-" + run + ".md")));
                r.forEach((k, v) -> figures.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
            }
            sides.add(figures);
        }
        System.out.println("| figure | A (" + labels[0] + "): median (min - max) | B (" + labels[1] + ") |");
        System.out.println("|---|---|---|");
        for (String name : sides.get(0).keySet()) {
            System.out.println("| " + name + " | " + summary(sides.get(0).get(name)) + " | "
                    + summary(sides.get(1).get(name)) + " |");
        }
    }

    static Map<String, Double> read(String md) {
        Map<String, Double> r = new LinkedHashMap<>();
        for (Figure f : READ) {
            Matcher m = f.pattern().matcher(md);
            if (m.find()) {
                r.put(f.name(), Double.parseDouble(m.group(f.group())));
            }
        }
        Double direct = r.get("direct chats/s");
        Double session = r.get("session API chats/s");
        Double v1 = r.get("/v1 chats/s");
        if (direct != null && session != null && v1 != null) {
            r.put("session API / direct", session / direct);
            r.put("/v1 / direct", v1 / direct);
        }
        Double sessionCores = r.remove("gateway cores, session run");
        Double v1Cores = r.remove("gateway cores, /v1 run");
        if (sessionCores != null && session != null) {
            r.put("gateway CPU per session chat at 50 clients (ms)", sessionCores / session * 1000);
        }
        if (v1Cores != null && v1 != null) {
            r.put("gateway CPU per /v1 chat at 50 clients (ms)", v1Cores / v1 * 1000);
        }
        return r;
    }

    static String summary(List<Double> values) {
        if (values == null || values.isEmpty()) {
            return "-";
        }
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        return format(median) + " (" + format(sorted.get(0)) + " - " + format(sorted.get(n - 1)) + ")";
    }

    static String format(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.3f", v);
    }
}
