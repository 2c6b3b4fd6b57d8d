package io.patchpilot.build;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package graph of the main code (compiled classes, tests excluded): the web layer sits on
 * top of the domain, which never reaches back into it, and no two top-level packages of
 * {@code io.patchpilot} depend on each other, directly or round a longer circle. Meters live in
 * {@code metrics}, the run ledger's keys in {@code ledger}, queue sending in {@code aws}.
 */
class ArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter().importPath(Path.of("target/classes"));
    }

    @Test
    void only_the_web_layer_and_the_service_assembling_it_use_web() {
        noClasses()
                .that()
                .resideOutsideOfPackages("io.patchpilot.web..", "io.patchpilot.service..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("io.patchpilot.web..")
                .because("domain packages record meters through io.patchpilot.metrics, not the web layer")
                .check(main);
    }

    @Test
    void no_circle_between_top_level_packages() {
        slices().matching("io.patchpilot.(*)..")
                .should()
                .beFreeOfCycles()
                .because("a circle between packages makes them one package in all but name")
                .check(main);
    }
}
