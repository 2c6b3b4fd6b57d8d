package io.patchpilot.patching;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowValidator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PatchDocumentTest {
    private static final WindowValidator V = new WindowValidator(List.of("Dev", "Test", "Prod"));

    private static MaintenanceWindow window(String json) throws Exception {
        return V.validate(new ObjectMapper().readTree(json), "111111111111");
    }

    @Test
    void a_window_without_hooks_runs_the_plain_baseline_with_its_operation_and_reboot_option() throws Exception {
        MaintenanceWindow w = window(
                "{\"Environment\":\"Dev\",\"PatchingOperation\":\"Scan\",\"OperationPostPatching\":\"NoReboot\"}");
        assertEquals("AWS-RunPatchBaseline", PatchTargetStep.document(w));
        assertEquals(
                Map.of("Operation", List.of("Scan"), "RebootOption", List.of("NoReboot")),
                PatchTargetStep.parameters(w));
    }

    @Test
    void hooks_run_the_wrapper_document_with_no_op_for_the_hooks_not_given() throws Exception {
        MaintenanceWindow w = window(
                "{\"Environment\":\"Dev\",\"PreInstallHookDocName\":\"Drain-From-ALB\",\"PostInstallHookDocName\":\"Rejoin-ALB\"}");
        assertEquals("AWS-RunPatchBaselineWithHooks", PatchTargetStep.document(w));
        assertEquals(
                Map.of(
                        "Operation",
                        List.of("Install"),
                        "RebootOption",
                        List.of("RebootIfNeeded"),
                        "PreInstallHookDocName",
                        List.of("Drain-From-ALB"),
                        "PostInstallHookDocName",
                        List.of("Rejoin-ALB"),
                        "OnExitHookDocName",
                        List.of("AWS-Noop")),
                PatchTargetStep.parameters(w));
    }
}
