package io.patchpilot.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.patchpilot.config.ConfigException;
import io.patchpilot.config.Settings;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WebAccessGuardTest {
    private static final String TOKEN = "0123456789abcdef-token";

    @ParameterizedTest
    @CsvSource(
            nullValues = "null",
            value = {
                // host, token configured?, path, Authorization, expected (0 = allowed)
                "127.0.0.1,false,/api/runs,null,0",
                "localhost,false,/,null,0",
                "::1,false,/metrics,null,0",
                "127.0.0.1,true,/api/runs,null,401",
                "127.0.0.1,true,/api/runs,Bearer 0123456789abcdef-token,0",
                "0.0.0.0,true,/,null,401",
                "0.0.0.0,true,/metrics,Bearer wrong-token-wrong-token,401",
                "0.0.0.0,true,/metrics,Basic abc,401",
                "0.0.0.0,true,/metrics,Bearer 0123456789abcdef-token,0",
                "0.0.0.0,true,/health,null,0",
                "0.0.0.0,true,/health/live,null,0",
                "0.0.0.0,true,/health/ready,null,0",
                "0.0.0.0,true,/health/../api/runs,null,401",
                "10.1.2.3,true,/api/compliance,Bearer 0123456789abcdef-token,0"
            })
    void requests_need_the_token_unless_bound_to_loopback_without_one(
            String host, boolean token, String path, String auth, int expected) {
        AccessGuard guard = AccessGuard.forBind(host, token ? Optional.of(TOKEN) : Optional.empty());
        assertEquals(expected, guard.check(path, auth));
    }

    @ParameterizedTest
    @CsvSource({"0.0.0.0", "10.1.2.3", "patchpilot.internal.example"})
    void a_non_loopback_bind_without_a_token_is_refused_naming_the_key(String host) {
        ConfigException e = assertThrows(ConfigException.class, () -> AccessGuard.forBind(host, Optional.empty()));
        assertEquals(
                "patchpilot.http.token: required when patchpilot.http.host (" + host + ") is not a loopback address",
                e.getMessage());
        assertThrows(ConfigException.class, () -> AccessGuard.forBind(host, Optional.of("  ")));
    }

    @Test
    void a_short_token_is_refused() {
        assertEquals(
                "patchpilot.http.token: at least 16 characters",
                assertThrows(ConfigException.class, () -> AccessGuard.forBind("0.0.0.0", Optional.of("short")))
                        .getMessage());
    }

    @Test
    void the_token_is_a_secret_setting() {
        assertEquals(true, Settings.SECRET_KEYS.contains(AccessGuard.TOKEN_KEY));
    }
}
