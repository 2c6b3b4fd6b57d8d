package io.patchpilot.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.windows.ParameterWindow.Apply;
import io.patchpilot.windows.ParameterWindow.Keep;
import io.patchpilot.windows.ParameterWindow.Outcome;
import io.patchpilot.windows.ParameterWindow.Reject;
import io.patchpilot.windows.ParameterWindow.Remove;
import io.patchpilot.windows.WindowParameters.Current;
import io.patchpilot.windows.WindowStore.Declaration;
import java.time.DayOfWeek;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ParameterWindowTest {
    private static final WindowValidator V = new WindowValidator(List.of("Dev", "Test", "Prod"));
    private static final String A = "111111111111";
    private static final String NAME = "/patchpilot/windows/Dev";
    private static final Instant T1 = Instant.parse("2026-12-07T10:00:00Z");
    private static final Instant T2 = Instant.parse("2026-12-07T11:00:00Z");

    private static Optional<Current> param(String value, long version, Instant modified) {
        return Optional.of(new Current(NAME, "String", value, version, modified));
    }

    private static Outcome decide(Optional<Current> current, Optional<Declaration> declared) {
        return ParameterWindow.decide(NAME, A, "us-east-1", current, declared, V);
    }

    private static Optional<Declaration> declaredHere(long version, Instant modified) {
        return Optional.of(Declaration.parameter(NAME, "us-east-1", version, modified));
    }

    @Test
    void a_new_parameter_applies_its_window_named_by_the_path_and_declared_by_its_version() {
        Apply a = assertInstanceOf(
                Apply.class, decide(param("{\"PatchingWindowWeekday\":\"Sunday\"}", 1, T1), Optional.empty()));
        assertEquals(A + "#Dev_maintenance_window", a.window().key());
        assertEquals(DayOfWeek.SUNDAY, a.window().weekday());
        assertEquals(Declaration.parameter(NAME, "us-east-1", 1, T1), a.declaration());
    }

    @Test
    void the_parameter_wins_over_a_window_from_a_request_or_the_cli() {
        assertInstanceOf(
                Apply.class, decide(param("{\"Environment\":\"Dev\"}", 1, T1), Optional.of(Declaration.request())));
        assertInstanceOf(Apply.class, decide(param("{}", 1, T1), Optional.of(Declaration.cli())));
    }

    @Test
    void an_older_or_the_same_version_never_wins() {
        assertInstanceOf(Keep.class, decide(param("{}", 2, T1), declaredHere(3, T2)));
        assertInstanceOf(Keep.class, decide(param("{}", 3, T2), declaredHere(3, T2)));
        assertInstanceOf(Apply.class, decide(param("{}", 4, T2), declaredHere(3, T1)));
        // deleted and created again: versions restart at 1, the modification time is newer
        assertInstanceOf(Apply.class, decide(param("{}", 1, T2), declaredHere(3, T1)));
    }

    @Test
    void a_deleted_parameter_removes_only_the_window_it_declared() {
        assertEquals(new Remove(A + "#Dev_maintenance_window"), decide(Optional.empty(), declaredHere(2, T1)));
        assertInstanceOf(Keep.class, decide(Optional.empty(), Optional.of(Declaration.cli())));
        assertInstanceOf(Keep.class, decide(Optional.empty(), Optional.empty()));
        assertInstanceOf(
                Keep.class,
                decide(Optional.empty(), Optional.of(Declaration.parameter(NAME, "eu-west-1", 2, T1))),
                "a parameter of the same name in another region does not remove it");
    }

    @Test
    void bad_values_are_rejected_with_one_line_naming_the_field() {
        assertEquals(
                new Reject("Value: not JSON (Unrecognized token 'Sunday': was expecting (JSON String, Number,"
                        + " Array, Object or token 'null', 'true' or 'false'))"),
                decide(param("Sunday", 1, T1), Optional.empty()));
        assertEquals(
                new Reject("Colour: unknown field"), decide(param("{\"Colour\":\"red\"}", 1, T1), Optional.empty()));
        assertEquals(
                new Reject("PatchingWindowStartTime: 25 is outside 0-23"),
                decide(param("{\"PatchingWindowStartTime\":25}", 1, T1), Optional.empty()));
        assertEquals(
                new Reject("Account: 222222222222 is not the requesting account 111111111111"),
                decide(param("{\"Account\":\"222222222222\"}", 1, T1), Optional.empty()));
        assertEquals(
                new Reject("Environment: 'Prod' does not match the parameter name /patchpilot/windows/Dev"),
                decide(param("{\"Environment\":\"Prod\"}", 1, T1), Optional.empty()));
        assertEquals(new Reject("window: must be a JSON object"), decide(param("[1]", 1, T1), Optional.empty()));
    }

    @Test
    void other_parameter_types_are_rejected_unread() {
        for (String type : List.of("StringList", "SecureString")) {
            Outcome o = ParameterWindow.decide(
                    NAME, A, "us-east-1", Optional.of(new Current(NAME, type, "x", 1, T1)), Optional.empty(), V);
            assertEquals(new Reject("Type: a " + type + " parameter is not read; a window parameter is a String"), o);
        }
    }

    @Test
    void a_window_declared_in_another_region_is_not_taken_over() {
        Reject r = assertInstanceOf(
                Reject.class, decide(param("{}", 1, T1), Optional.of(Declaration.parameter(NAME, "eu-west-1", 1, T1))));
        assertTrue(r.reason().startsWith("Environment: Dev is already declared by " + NAME + " in eu-west-1"));
    }

    @Test
    void names_and_tag_values() {
        assertEquals(Optional.of("Dev"), ParameterWindow.environment(NAME));
        assertEquals(Optional.empty(), ParameterWindow.environment("/patchpilot/windows/a/b"));
        assertEquals(Optional.empty(), ParameterWindow.environment("/app/db"));
        assertEquals("Dev_maintenance_window", ParameterWindow.windowName("/patchpilot/windows/dev", V));
        assertEquals(
                "version 2: PatchingWindowWeekday: Funday is not a weekday Monday-Sunday",
                ParameterWindow.tagValue(
                        "version 2: PatchingWindowWeekday: 'Funday' is not a weekday (Monday-Sunday)"));
        assertEquals(256, ParameterWindow.tagValue("x".repeat(400)).length());
    }

    @Test
    void the_sweep_settles_what_the_ledger_missed_and_nothing_else() {
        Current dev = new Current(NAME, "String", "", 3, T2);
        Current test = new Current("/patchpilot/windows/Test", "String", "", 1, T1);
        Current nested = new Current("/patchpilot/windows/a/b", "String", "", 1, T1);
        Map<String, WindowStore.Handled> handled = Map.of(
                NAME, new WindowStore.Handled(3, T2), "/patchpilot/windows/Prod", new WindowStore.Handled(2, T1));
        // Test never handled (its event lost), Prod handled but deleted since (its Delete lost); Dev is settled
        assertEquals(
                List.of("/patchpilot/windows/Prod", "/patchpilot/windows/Test"),
                ParameterWindow.toSettle(List.of(dev, test, nested), handled));
        // a newer version than the one handled (an event out of order or lost)
        assertEquals(
                List.of(NAME),
                ParameterWindow.toSettle(
                        List.of(new Current(NAME, "String", "", 4, T2)), Map.of(NAME, new WindowStore.Handled(3, T2))));
        assertEquals(List.of(), ParameterWindow.toSettle(List.of(dev), Map.of(NAME, new WindowStore.Handled(3, T2))));
    }
}
