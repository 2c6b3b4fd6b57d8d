package io.patchpilot.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchpilot.local.LocalAws;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.Properties;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.main.Main;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The guard in front of camel-platform-http's server: with a token, only the probes answer without it. */
class WebAccessRouteTest {
    private static final String TOKEN = "a-test-token-of-some-length";
    private final HttpClient http = HttpClient.newHttpClient();
    private Main main;

    private int start(Optional<String> token) throws Exception {
        int port = LocalAws.freePort();
        main = new Main();
        Properties p = new Properties();
        p.setProperty("camel.main.jmx-enabled", "false");
        p.setProperty("camel.server.enabled", "true");
        p.setProperty("camel.server.host", "127.0.0.1");
        p.setProperty("camel.server.port", Integer.toString(port));
        main.setInitialProperties(p);
        main.setDefaultPropertyPlaceholderLocation("false");
        main.configure().addRoutesBuilder(new RouteBuilder() {
            @Override
            public void configure() {
                from("platform-http:/api/runs?httpMethodRestrict=GET").setBody(constant("{\"items\":[]}"));
                from("platform-http:/health?httpMethodRestrict=GET").setBody(constant("{\"status\":\"UP\"}"));
                from("platform-http:/metrics?httpMethodRestrict=GET").setBody(constant("# metrics"));
            }
        });
        main.start();
        AccessGuard.forBind("127.0.0.1", token).install(main.getCamelContext(), port);
        return port;
    }

    @AfterEach
    void stop() throws Exception {
        if (main != null) main.stop();
    }

    private int status(int port, String path, String authorization) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (authorization != null) r.header("Authorization", authorization);
        return http.send(r.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void with_a_token_every_request_but_the_probes_needs_it() throws Exception {
        int port = start(Optional.of(TOKEN));
        assertEquals(401, status(port, "/api/runs", null));
        assertEquals(401, status(port, "/metrics", "Bearer nope"));
        assertEquals(401, status(port, "/not-a-route", null));
        assertEquals(200, status(port, "/api/runs", "Bearer " + TOKEN));
        assertEquals(200, status(port, "/metrics", "Bearer " + TOKEN));
        assertEquals(200, status(port, "/health", null));
    }

    @Test
    void on_loopback_without_a_token_everything_is_open_to_the_machine() throws Exception {
        int port = start(Optional.empty());
        assertEquals(200, status(port, "/api/runs", null));
        assertEquals(200, status(port, "/metrics", null));
    }
}
