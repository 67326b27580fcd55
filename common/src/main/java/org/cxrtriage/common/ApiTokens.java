package org.cxrtriage.common;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.UnauthorizedResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Predicate;

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
    private static final String LABEL_ATTRIBUTE = "cxr.token-label";

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
        protect(config, path -> false, path -> false);
    }

    /**
     * For services a browser talks to: paths accepted by {@code openPath} need no token (a static page that holds no
     * data), and GET requests on paths accepted by {@code queryTokenPath} may carry the token as {@code ?token=},
     * because a browser's EventSource and {@code <img>} cannot send headers.
     */
    public void protect(JavalinConfig config, Predicate<String> openPath, Predicate<String> queryTokenPath) {
        config.routes.before(ctx -> {
            String path = ctx.path();
            if (disabled || path.equals("/health") || path.equals("/metrics") || openPath.test(path)) {
                ctx.attribute(GRANT_ATTRIBUTE, ANY_SITE);
                ctx.attribute(LABEL_ATTRIBUTE, disabled ? "auth-off" : "anonymous");
                return;
            }
            String presented = bearer(ctx);
            if (presented == null && HandlerType.GET.equals(ctx.method()) && queryTokenPath.test(path)) {
                presented = ctx.queryParam("token");
            }
            String site = siteOf(presented).orElseThrow(() -> new UnauthorizedResponse("a valid API token is required"));
            ctx.attribute(GRANT_ATTRIBUTE, site);
            ctx.attribute(LABEL_ATTRIBUTE, label(site, presented));
        });
    }

    /** The site the request's token is bound to, {@code *} for all sites. */
    public static String grant(Context ctx) {
        return ctx.attribute(GRANT_ATTRIBUTE);
    }

    /**
     * Names the request's token without revealing it: its site and the first 8 hex digits of its SHA-256, e.g.
     * {@code token:ED-NORTH:3fa2c1d0} — for audit fields such as who acknowledged an alert (never a person's name).
     */
    public static String label(Context ctx) {
        return ctx.attribute(LABEL_ATTRIBUTE);
    }

    static String label(String site, String token) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            return "token:" + site + ":" + HexFormat.of().formatHex(digest, 0, 4);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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
