package io.patchpilot.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every template in deploy/cloudformation passes the installed cfn-lint, warnings included. */
class CfnLintTest {
    @TestFactory
    Stream<DynamicTest> every_template_passes_cfn_lint() {
        List<Path> templates = Templates.all();
        assertTrue(templates.containsAll(List.of(Templates.HUB, Templates.MEMBER)), "templates found: " + templates);
        String cfnLint = cfnLint();
        return templates.stream()
                .map(t -> DynamicTest.dynamicTest(t.getFileName().toString(), () -> {
                    Process p = new ProcessBuilder(cfnLint, "--", t.toString())
                            .redirectErrorStream(true)
                            .start();
                    // read before waiting: a full pipe would block cfn-lint
                    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "cfn-lint did not finish on " + t);
                    assertEquals(0, p.exitValue(), "cfn-lint " + t + " (exit " + p.exitValue() + "):\n" + out);
                }));
    }

    /** cfn-lint from PATH (pyenv's shim on these machines). */
    private static String cfnLint() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, "cfn-lint");
            if (Files.isExecutable(candidate)) return candidate.toString();
        }
        Path pyenv = Path.of(System.getProperty("user.home"), ".pyenv", "shims", "cfn-lint");
        if (Files.isExecutable(pyenv)) return pyenv.toString();
        throw new AssertionError("cfn-lint is not on PATH (pip install cfn-lint); the templates must pass it");
    }
}
