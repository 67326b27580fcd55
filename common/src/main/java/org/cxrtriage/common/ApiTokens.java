package org.cxrtriage.common;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.UnauthorizedResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Bearer tokens for the HTTP APIs. {@code API_TOKENS="s3cret=ED-NORTH,0ther=*"}: each token is bound to the one
 * site it may act for, or to every site ({@code *}). {@code /health} and {@code /metrics} stay open for probes and
 * scrapers. Without tokens a service refuses to start unless {@code API_AUTH=off} says so explicitly.
 */
public final class ApiTokens {

    public static final String TOKENS = "API_TOKENS";
    public static final String AUTH = "API_AUTH";
    public static final String ANY_SITE = "*";
    private static final String GRANT_ATTRIBUTE = "cxr.site-grant";

    private final Map<String, String> siteByToken;
    private final boolean disabled;

    private ApiTokens(Map<String, String> siteByToken, boolean disabled) {
        this.siteByToken = Map.copyOf(siteByToken);
        this.disabled = disabled;
    }

    public static ApiTokens fromSettings(Settings settings) {
        boolean off = settings.string(AUTH, "on").equalsIgnoreCase("off");
        Map<String, String> tokens = new LinkedHashMap<>();
        for (String entry : settings.string(TOKENS, "").split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            int eq = entry.lastIndexOf('=');
            String token = eq < 0 ? entry.trim() : entry.substring(0, eq).trim();
            String site = eq < 0 ? ANY_SITE : entry.substring(eq + 1).trim();
            if (token.length() < 16) {
                throw new IllegalArgumentException(TOKENS + ": tokens must have at least 16 characters");
            }
            tokens.put(token, site.isEmpty() ? ANY_SITE : site);
        }
        if (tokens.isEmpty() && !off) {
            throw new IllegalArgumentException("no " + TOKENS + " configured: set " + TOKENS
                    + "=<token>=<site or *>,... or " + AUTH + "=off (local development only)");
        }
        return new ApiTokens(tokens, off);
    }

    /** Requires a valid token on every route but /health and /metrics. */
    public void protect(JavalinConfig config) {
        config.routes.before(ctx -> {
            if (disabled || ctx.path().equals("/health") || ctx.path().equals("/metrics")) {
                ctx.attribute(GRANT_ATTRIBUTE, ANY_SITE);
                return;
            }
            String site = siteOf(bearer(ctx)).orElseThrow(() -> new UnauthorizedResponse("a valid API token is required"));
            ctx.attribute(GRANT_ATTRIBUTE, site);
        });
    }

    /** Whether the request's token may act for the site. */
    public static boolean mayActFor(Context ctx, String siteId) {
        String grant = ctx.attribute(GRANT_ATTRIBUTE);
        return ANY_SITE.equals(grant) || (grant != null && grant.equals(siteId));
    }

    Optional<String> siteOf(String presented) {
        if (presented == null) {
            return Optional.empty();
        }
        byte[] p = presented.getBytes(StandardCharsets.UTF_8);
        String found = null;
        // Constant-time comparison against every token, so timing reveals nothing about them.
        for (Map.Entry<String, String> e : siteByToken.entrySet()) {
            if (MessageDigest.isEqual(p, e.getKey().getBytes(StandardCharsets.UTF_8))) {
                found = e.getValue();
            }
        }
        return Optional.ofNullable(found);
    }

    private static String bearer(Context ctx) {
        String h = ctx.header("Authorization");
        if (h != null && h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return h.substring(7).trim();
        }
        return ctx.header("X-Api-Token");
    }
}
