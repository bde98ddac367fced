package com.cobalt.chat.record;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * USD per million input and output tokens, per provider and model (or Azure deployment), from properties of the
 * form {@code llm.price.<provider>.<model> = <input>,<output>[,<cached input>]}, e.g.
 * {@code llm.price.azure.gpt-4o = 2.50,10.00,1.25}. Prompt tokens the provider served from its cache cost the cached
 * input price; without one they cost the input price. A model without a price has an unknown cost: null, never 0.
 */
public class PriceTable {

    public static final String PREFIX = "llm.price.";
    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

    /** @param cachedInputPerMillion the price of cached prompt tokens; the input price when none was given */
    public record Price(BigDecimal inputPerMillion, BigDecimal outputPerMillion, BigDecimal cachedInputPerMillion) {
    }

    private final Map<String, Price> prices = new HashMap<>();

    public PriceTable(Properties properties) {
        for (String key : properties.stringPropertyNames()) {
            if (!key.startsWith(PREFIX)) {
                continue;
            }
            String rest = key.substring(PREFIX.length());
            int dot = rest.indexOf('.');
            String value = properties.getProperty(key).trim();
            if (value.isEmpty()) {
                continue; // an empty price unsets one: the model has no price
            }
            String[] parts = value.split(",");
            if (dot <= 0 || dot == rest.length() - 1 || parts.length < 2 || parts.length > 3) {
                throw new IllegalArgumentException(key + " must be <input>,<output>[,<cached input>] USD per million"
                        + " tokens, got: " + value);
            }
            BigDecimal input = new BigDecimal(parts[0].trim());
            prices.put(rest, new Price(input, new BigDecimal(parts[1].trim()),
                    parts.length == 3 ? new BigDecimal(parts[2].trim()) : input));
        }
    }

    public Price price(String provider, String model) {
        return prices.get(provider + "." + model);
    }

    /** The cost of one answer in USD, or null when the model has no price. */
    public BigDecimal cost(String provider, String model, int promptTokens, int completionTokens) {
        return cost(provider, model, promptTokens, 0, completionTokens);
    }

    /**
     * The cost of one answer in USD, or null when the model has no price.
     *
     * @param cachedTokens the part of {@code promptTokens} served from the provider's cache
     */
    public BigDecimal cost(String provider, String model, int promptTokens, int cachedTokens, int completionTokens) {
        Price p = price(provider, model);
        if (p == null) {
            return null;
        }
        int cached = Math.max(0, Math.min(cachedTokens, promptTokens));
        BigDecimal in = p.inputPerMillion().multiply(BigDecimal.valueOf(promptTokens - cached))
                .add(p.cachedInputPerMillion().multiply(BigDecimal.valueOf(cached)));
        BigDecimal out = p.outputPerMillion().multiply(BigDecimal.valueOf(completionTokens));
        return in.add(out).divide(MILLION, MathContext.DECIMAL64).setScale(10, RoundingMode.HALF_UP)
                .stripTrailingZeros();
    }
}
