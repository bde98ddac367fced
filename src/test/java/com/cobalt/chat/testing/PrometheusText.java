package com.cobalt.chat.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * The Prometheus text exposition format (0.0.4) as scraped from {@code <managementUrl>/observe/metrics}: every
 * sample with its name, labels and value, and every family with its {@code # TYPE}.
 */
public final class PrometheusText {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** One sample line: {@code name{labels} value}. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    private final String text;
    private final List<Sample> samples;
    private final Map<String, String> types;

    private PrometheusText(String text, List<Sample> samples, Map<String, String> types) {
        this.text = text;
        this.samples = samples;
        this.types = types;
    }

    /** GET /observe/metrics on the management port; AssertionError unless 200. */
    public static PrometheusText scrape(RunningGateway gateway) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gateway.managementUrl()
                    + "/observe/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError("GET /observe/metrics: " + r.statusCode() + " " + r.body());
            }
            return parse(r.body());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Scrapes until {@code ready} holds, for at most 5 s (answers are counted off the response path). */
    public static PrometheusText await(RunningGateway gateway, Predicate<PrometheusText> ready) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            PrometheusText m = scrape(gateway);
            if (ready.test(m)) {
                return m;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("metrics not as expected within 5 s:\n" + m.text());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    public static PrometheusText parse(String text) {
        List<Sample> samples = new ArrayList<>();
        Map<String, String> types = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).trim().split(" ");
                types.put(parts[0], parts[1]);
                continue;
            }
            if (line.startsWith("#")) {
                continue;
            }
            samples.add(sample(line));
        }
        return new PrometheusText(text, List.copyOf(samples), types);
    }

    private static Sample sample(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf('=', i);
                String key = line.substring(i, eq).trim();
                if (line.charAt(eq + 1) != '"') {
                    throw new AssertionError("bad label in: " + line);
                }
                StringBuilder value = new StringBuilder();
                int j = eq + 2;
                for (; line.charAt(j) != '"'; j++) {
                    char c = line.charAt(j);
                    if (c == '\\') {
                        char next = line.charAt(++j);
                        value.append(next == 'n' ? '\n' : next);
                    } else {
                        value.append(c);
                    }
                }
                labels.put(key, value.toString());
                i = j + 1;
                if (line.charAt(i) == ',') {
                    i++;
                }
            }
            i++;
        }
        String rest = line.substring(i).trim();
        String value = rest.split(" ")[0];
        double v = switch (value) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(value);
        };
        return new Sample(name, Map.copyOf(labels), v);
    }

    public String text() {
        return text;
    }

    public List<Sample> samples() {
        return samples;
    }

    /** {@code # TYPE} per family name (counters are named with their {@code _total}). */
    public Map<String, String> types() {
        return types;
    }

    /** The names of all sample lines ({@code x_bucket}, {@code x_count}, ... for histograms). */
    public Set<String> sampleNames() {
        Set<String> names = new TreeSet<>();
        samples.forEach(s -> names.add(s.name()));
        return names;
    }

    /** The samples of this name whose labels include all of {@code labels}. */
    public List<Sample> find(String name, Map<String, String> labels) {
        List<Sample> found = new ArrayList<>();
        for (Sample s : samples) {
            if (s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet())) {
                found.add(s);
            }
        }
        return found;
    }

    /** The value of the one sample of this name whose labels include {@code labels}; null when there is none. */
    public Double value(String name, Map<String, String> labels) {
        List<Sample> found = find(name, labels);
        if (found.size() > 1) {
            throw new AssertionError("more than one sample " + name + labels + ": " + found);
        }
        return found.isEmpty() ? null : found.get(0).value();
    }

    /** Label names seen on any sample of this name. */
    public Set<String> labelNames(String name) {
        Set<String> names = new LinkedHashSet<>();
        for (Sample s : samples) {
            if (s.name().equals(name)) {
                names.addAll(s.labels().keySet());
            }
        }
        return names;
    }
}
