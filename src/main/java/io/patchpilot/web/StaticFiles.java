package io.patchpilot.web;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPOutputStream;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * The page's files from the class path: {@code web/} (index.html, run.html, dashboard.js, .css)
 * and the ECharts WebJar under {@code /webjars/}. Nothing is fetched from a CDN; no build step.
 */
public final class StaticFiles {
    private static final Map<String, String> TYPES = Map.of(
            "html",
            "text/html; charset=utf-8",
            "js",
            "text/javascript; charset=utf-8",
            "css",
            "text/css; charset=utf-8",
            "png",
            "image/png",
            "svg",
            "image/svg+xml",
            "map",
            "application/json");
    private final Map<String, byte[]> cache = new ConcurrentHashMap<>();
    private final Map<String, byte[]> gzipped = new ConcurrentHashMap<>();

    /** A request path to the class-path resource it may serve; empty for anything else (including "..", hidden files). */
    static Optional<String> resource(String path) {
        if (path == null || path.isEmpty() || path.equals("/")) return Optional.of("web/index.html");
        if (!path.matches("/[A-Za-z0-9_./-]+") || path.contains("..") || path.contains("/.") || path.contains("//"))
            return Optional.empty();
        if (path.startsWith("/webjars/")) return Optional.of("META-INF/resources" + path);
        if (path.startsWith("/runs/")) return Optional.of("web/run.html");
        return Optional.of("web" + path);
    }

    public void serve(Exchange exchange) throws IOException {
        Message m = exchange.getMessage();
        String acceptEncoding = m.getHeader("Accept-Encoding", String.class);
        String path = m.getHeader(Exchange.HTTP_PATH, String.class);
        if (path == null || path.isEmpty()) path = m.getHeader(Exchange.HTTP_URI, String.class);
        m.getHeaders().keySet().removeIf(h -> !h.startsWith("Camel")); // the request's headers are not echoed back
        if (path != null && path.indexOf('?') >= 0) path = path.substring(0, path.indexOf('?'));
        Optional<String> name = resource(path);
        byte[] body = name.map(this::load).orElse(null);
        if (body == null) {
            m.setHeader(Exchange.HTTP_RESPONSE_CODE, 404);
            m.setHeader(Exchange.CONTENT_TYPE, "text/plain");
            m.setBody("not found");
            return;
        }
        String n = name.get();
        m.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        m.setHeader(
                Exchange.CONTENT_TYPE,
                TYPES.getOrDefault(n.substring(n.lastIndexOf('.') + 1), "application/octet-stream"));
        m.setHeader("Cache-Control", n.startsWith("META-INF/") ? "public, max-age=86400" : "no-cache");
        if (body.length > 1024 && acceptEncoding != null && acceptEncoding.contains("gzip")) {
            // the chart library is 1 MB, 0.3 MB gzipped: compressed once, then served from memory
            body = gzipped.computeIfAbsent(n, k -> gzip(load(k)));
            m.setHeader("Content-Encoding", "gzip");
            m.setHeader("Vary", "Accept-Encoding");
        }
        m.setBody(body);
    }

    static byte[] gzip(byte[] plain) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(plain.length / 3);
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(plain);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    private byte[] load(String name) {
        return cache.computeIfAbsent(name, k -> {
            try (InputStream in = StaticFiles.class.getClassLoader().getResourceAsStream(k)) {
                return in == null ? null : in.readAllBytes();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
