package io.patchpilot.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WindowNamesTest {
    @Test
    void a_window_reads_as_its_name_and_its_owner() {
        assertEquals("Default_maintenance_window (organization)", WindowNames.display("*#Default_maintenance_window"));
        assertEquals(
                "Dev_maintenance_window (111122223333)", WindowNames.display("111122223333#Dev_maintenance_window"));
        assertEquals(
                "Default_maintenance_window (organization)",
                WindowNames.display(MaintenanceWindow.defaultWindow(null)));
    }

    @Test
    void an_emergency_label_and_anything_else_read_without_a_ledger_key() {
        assertEquals("emergency (Prod)", WindowNames.display("emergency:Prod"));
        assertEquals("something", WindowNames.display("something"));
        assertEquals("", WindowNames.display((String) null));
    }

    @Test
    void name_and_scope_split_a_key() {
        assertEquals("Dev_maintenance_window", WindowNames.name("111122223333#Dev_maintenance_window"));
        assertEquals("111122223333", WindowNames.scope("111122223333#Dev_maintenance_window"));
        assertEquals("organization", WindowNames.scope("*#Default_maintenance_window"));
        assertEquals("organization", WindowNames.scope("emergency:Prod"));
    }

    @Test
    void ledger_keys_are_recognised_in_any_text_and_display_names_are_not_keys() {
        assertTrue(WindowNames.containsLedgerKey("window *#Default_maintenance_window done"));
        assertTrue(WindowNames.containsLedgerKey("{\"window\":\"111122223333#Dev_maintenance_window\"}"));
        assertFalse(WindowNames.containsLedgerKey(WindowNames.display("*#Default_maintenance_window")));
        assertFalse(WindowNames.containsLedgerKey(WindowNames.display("111122223333#Dev_maintenance_window")));
        assertFalse(WindowNames.containsLedgerKey("TARGET#111122223333#us-east-1"));
    }
}
