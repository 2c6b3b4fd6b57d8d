package io.patchpilot.windows;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.DayOfWeek;
import java.time.LocalDate;

/**
 * A maintenance window: the seed's "custom maintenance window" product parameters (same JSON
 * names), plus a cron expression, a Patch-Tuesday offset, a time zone and rate control. Owned by
 * one member account, or organization-wide when {@code account} is null (the Default window).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MaintenanceWindow(
        @JsonProperty("Account") String account,
        @JsonProperty("Environment") String environment,
        @JsonProperty("PatchingFrequency") int frequencyDays,
        @JsonProperty("PatchingWindowWeekday") DayOfWeek weekday,
        @JsonProperty("PatchingWindowStartTime") int startHour,
        @JsonProperty("PatchingWindowDuration") int durationHours,
        @JsonProperty("CutoffHours") int cutoffHours,
        @JsonProperty("PatchingOperation") String operation,
        @JsonProperty("OperationPostPatching") String postPatchOperation,
        @JsonProperty("IncludeASG") String includeAsg,
        @JsonProperty("RetainHealthyPercentage") int retainHealthyPercentage,
        @JsonProperty("RefreshASGInstances") String refreshAsgInstances,
        @JsonProperty("CronExpression") String cron,
        @JsonProperty("PatchTuesdayOffsetDays") Integer patchTuesdayOffsetDays,
        @JsonProperty("TimeZone") String timeZone,
        @JsonProperty("MaxConcurrency") String maxConcurrency,
        @JsonProperty("MaxErrors") String maxErrors,
        @JsonProperty("PredecessorWindow") String predecessor,
        @JsonProperty("SoakHours") Integer soakHours,
        @JsonProperty("MaxFailurePercent") Integer maxFailurePercent,
        @JsonProperty("AnchorDate") LocalDate anchorDate,
        @JsonProperty("PreInstallHookDocName") String preInstallHook,
        @JsonProperty("PostInstallHookDocName") String postInstallHook,
        @JsonProperty("OnExitHookDocName") String onExitHook) {

    public static final String DEFAULT_ENVIRONMENT = "Default";

    /** {@code <Env>_maintenance_window}, the value of the resources' maintenance_window tag. */
    public String name() {
        return environment + "_maintenance_window";
    }

    /** The ledger/rule key: {@code <account>#<name>}, account {@code *} for organization-wide. */
    public String key() {
        return (account == null ? WindowDirectory.ORGANIZATION_WIDE : account) + "#" + name();
    }

    /** The key of the window that must have run well before this one may (same owner), if any. */
    public String predecessorKey() {
        return predecessor == null
                ? null
                : (account == null ? WindowDirectory.ORGANIZATION_WIDE : account) + "#" + predecessor
                        + "_maintenance_window";
    }

    /** Install with lifecycle hooks runs AWS-RunPatchBaselineWithHooks; everything else the plain baseline. */
    public boolean hasHooks() {
        return preInstallHook != null || postInstallHook != null || onExitHook != null;
    }

    public boolean organizationWide() {
        return account == null;
    }

    /** The organization-wide default window of docs/contract.md (docs/account-owners.md#maintenance-windows): Friday 05:00 UTC, 6 h, cutoff 1 h. */
    public static MaintenanceWindow defaultWindow(LocalDate anchor) {
        return new MaintenanceWindow(
                null,
                DEFAULT_ENVIRONMENT,
                7,
                DayOfWeek.FRIDAY,
                5,
                6,
                1,
                "Install",
                "RebootIfNeeded",
                "Yes",
                90,
                "Yes",
                null,
                null,
                "UTC",
                "10%",
                "10%",
                null,
                null,
                null,
                anchor,
                null,
                null,
                null);
    }

    public MaintenanceWindow withAnchor(LocalDate anchor) {
        return new MaintenanceWindow(
                account,
                environment,
                frequencyDays,
                weekday,
                startHour,
                durationHours,
                cutoffHours,
                operation,
                postPatchOperation,
                includeAsg,
                retainHealthyPercentage,
                refreshAsgInstances,
                cron,
                patchTuesdayOffsetDays,
                timeZone,
                maxConcurrency,
                maxErrors,
                predecessor,
                soakHours,
                maxFailurePercent,
                anchor,
                preInstallHook,
                postInstallHook,
                onExitHook);
    }
}
