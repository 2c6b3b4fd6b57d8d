package io.patchpilot.web;

import io.patchpilot.config.ConfigException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.Set;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;

/**
 * Who may read the page, the API and the metrics. Bound to loopback (the default), everything is
 * open to the local machine. Bound elsewhere, every request but the liveness/readiness probes
 * needs {@code Authorization: Bearer <patchpilot.http.token>}; start-up refuses such a bind
 * without a token. (Behind a load balancer that authenticates users, keep the service on a
 * private address and give the balancer the token to forward.)
 */
public final class AccessGuard {
    public static final String TOKEN_KEY = "patchpilot.http.token";
    static final Set<String> OPEN_PATHS = Set.of("/health", "/health/live", "/health/ready");
    // camel-platform-http-vertx's default server port, whose router is the fallback
    private static final int DEFAULT_HTTP_PORT = 8080;

    private final boolean open;
    private final byte[] token;

    private AccessGuard(boolean open, String token) {
        this.open = open;
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    /** The guard for a bind address; a non-loopback host without a token is a configuration error. */
    public static AccessGuard forBind(String host, Optional<String> token) {
        boolean loopback = isLoopback(host);
        Optional<String> t = token.filter(s -> !s.isBlank());
        if (!loopback && t.isEmpty()) {
            throw new ConfigException(
                    TOKEN_KEY + ": required when patchpilot.http.host (" + host + ") is not a loopback address");
        }
        if (t.isPresent() && t.get().length() < 16) throw new ConfigException(TOKEN_KEY + ": at least 16 characters");
        return new AccessGuard(loopback && t.isEmpty(), t.orElse(null));
    }

    static boolean isLoopback(String host) {
        if (host == null || host.isBlank()) return false;
        if (host.equals("localhost")) return true;
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** 0 when the request may go on, else the HTTP status to answer (401). */
    public int check(String path, String authorization) {
        if (open || OPEN_PATHS.contains(path)) return 0;
        if (authorization == null || !authorization.startsWith("Bearer ")) return 401;
        byte[] given = authorization.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, token) ? 0 : 401;
    }

    /** Puts the check in front of every route of the service's HTTP server (Vert.x router of camel-platform-http). */
    public void install(CamelContext camel, int port) {
        if (open) return;
        var router = VertxPlatformHttpRouter.lookup(camel, VertxPlatformHttpRouter.getRouterNameFromPort(port));
        if (router == null)
            // the default server's router (what the deprecated lookup(camel) looked up)
            router = VertxPlatformHttpRouter.lookup(
                    camel, VertxPlatformHttpRouter.getRouterNameFromPort(DEFAULT_HTTP_PORT));
        if (router == null)
            throw new IllegalStateException(
                    "no platform-http router for port " + port + ": cannot guard the web endpoints");
        router.route().order(Integer.MIN_VALUE).handler(ctx -> {
            int status = check(ctx.normalizedPath(), ctx.request().getHeader("Authorization"));
            if (status == 0) {
                ctx.next();
            } else {
                ctx.response()
                        .setStatusCode(status)
                        .putHeader("WWW-Authenticate", "Bearer realm=\"patchpilot\"")
                        .putHeader("Content-Type", "application/json")
                        .end("{\"error\":\"unauthorized\"}");
            }
        });
    }
}
