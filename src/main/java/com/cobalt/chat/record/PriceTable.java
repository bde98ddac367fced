package com.cobalt.chat.record;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * USD per million input and output tokens, per provider and model (or Azure deployment), from properties of the
 * form {@code llm.price.<provider>.<model> = <input>,<output>}, e.g. {@code llm.price.azure.gpt-4o = 2.50,10.00}.
 * A model without a price has an unknown cost: null, never 0.
 */
public class PriceTable {

    public static final String PREFIX = "llm.price.";
    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

    public record Price(BigDecimal inputPerMillion, BigDecimal outputPerMillion) {
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
            String[] parts = value.split(",");
            if (dot <= 0 || dot == rest.length() - 1 || parts.length != 2) {
                throw new IllegalArgumentException(key + " must be <input>,<output> USD per million tokens, got: "
                        + value);
            }
            prices.put(rest, new Price(new BigDecimal(parts[0].trim()), new BigDecimal(parts[1].trim())));
        }
    }

    public Price price(String provider, String model) {
        return prices.get(provider + "." + model);
    }

    /** The cost of one answer in USD, or null when the model has no price. */
    public BigDecimal cost(String provider, String model, int promptTokens, int completionTokens) {
        Price p = price(provider, model);
        if (p == null) {
            return null;
        }
        BigDecimal in = p.inputPerMillion().multiply(BigDecimal.valueOf(promptTokens));
        BigDecimal out = p.outputPerMillion().multiply(BigDecimal.valueOf(completionTokens));
        return in.add(out).divide(MILLION, MathContext.DECIMAL64).setScale(10, RoundingMode.HALF_UP)
                .stripTrailingZeros();
    }
}
