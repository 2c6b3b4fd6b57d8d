package io.patchpilot.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WebStaticFilesTest {
    @ParameterizedTest
    @CsvSource(
            nullValues = "null",
            value = {
                "/,web/index.html",
                "/assets/dashboard.js,web/assets/dashboard.js",
                "/runs/Default-20261127T0500Z,web/run.html",
                "/webjars/echarts/5.3.1/dist/echarts.min.js,META-INF/resources/webjars/echarts/5.3.1/dist/echarts.min.js",
                "/assets/../../etc/passwd,null",
                "/assets/.hidden,null",
                "/assets//x.js,null",
                "/assets/a b.js,null",
                "/webjars/..%2f..%2fsecret,null"
            })
    void a_path_maps_to_a_page_file_or_nothing(String path, String resource) {
        assertEquals(Optional.ofNullable(resource), StaticFiles.resource(path));
    }

    @Test
    void gzip_round_trips() throws Exception {
        byte[] plain = "x".repeat(5000).getBytes(StandardCharsets.UTF_8);
        try (var in = new GZIPInputStream(new ByteArrayInputStream(StaticFiles.gzip(plain)))) {
            Assertions.assertArrayEquals(plain, in.readAllBytes());
        }
    }

    @ParameterizedTest
    @CsvSource({
        "web/index.html",
        "web/run.html",
        "web/assets/dashboard.js",
        "web/assets/run.js",
        "web/assets/common.js",
        "web/assets/dashboard.css",
        "META-INF/resources/webjars/echarts/5.3.1/dist/echarts.min.js"
    })
    void the_page_files_and_the_chart_library_are_on_the_class_path(String resource) {
        assertNotNull(getClass().getClassLoader().getResource(resource), resource);
    }
}
