package org.cxrtriage.common;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Configuration read from environment variables with local defaults. Tests and the launcher pass
 * overrides instead of mutating the process environment.
 */
public final class Settings {

    private final Map<String, String> values;

    private Settings(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    public static Settings fromEnv() {
        return new Settings(System.getenv());
    }

    public static Settings of(Map<String, String> values) {
        return new Settings(values);
    }

    /** A copy with some keys replaced (later wins). */
    public Settings with(Map<String, String> overrides) {
        Map<String, String> merged = new HashMap<>(values);
        merged.putAll(overrides);
        return new Settings(merged);
    }

    public Settings with(String key, String value) {
        return with(Map.of(key, value));
    }

    public Optional<String> optional(String key) {
        String v = values.get(key);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    public String string(String key, String defaultValue) {
        return optional(key).orElse(defaultValue);
    }

    public String required(String key) {
        return optional(key).orElseThrow(() -> new IllegalArgumentException("missing required setting " + key));
    }

    public int integer(String key, int defaultValue) {
        return optional(key).map(v -> parse(key, v, Integer::parseInt)).orElse(defaultValue);
    }

    public long longValue(String key, long defaultValue) {
        return optional(key).map(v -> parse(key, v, Long::parseLong)).orElse(defaultValue);
    }

    public double decimal(String key, double defaultValue) {
        return optional(key).map(v -> parse(key, v, Double::parseDouble)).orElse(defaultValue);
    }

    public boolean flag(String key, boolean defaultValue) {
        return optional(key).map(v -> switch (v.toLowerCase()) {
            case "true", "1", "yes", "on" -> true;
            case "false", "0", "no", "off" -> false;
            default -> throw new IllegalArgumentException(key + " must be true or false, got '" + v + "'");
        }).orElse(defaultValue);
    }

    /** ISO-8601 (PT10M) or a plain number of seconds. */
    public Duration duration(String key, Duration defaultValue) {
        return optional(key).map(v -> v.matches("\\d+") ? Duration.ofSeconds(Long.parseLong(v))
                : parse(key, v, Duration::parse)).orElse(defaultValue);
    }

    /** All entries whose key starts with the prefix, prefix removed. */
    public Map<String, String> withPrefix(String prefix) {
        Map<String, String> out = new HashMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(prefix) && k.length() > prefix.length()) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    private static <T> T parse(String key, String value, java.util.function.Function<String, T> parser) {
        try {
            return parser.apply(value);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("setting " + key + " has an invalid value '" + value + "'", e);
        }
    }
}
