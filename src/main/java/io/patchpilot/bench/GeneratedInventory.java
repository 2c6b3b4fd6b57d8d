package io.patchpilot.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Inventory rows as SSM Resource Data Sync writes them (deploy/local/localaws_ext/inventory.py):
 * one AWS:InstanceInformation row per instance, one AWS:ComplianceItem row per patch, as
 * newline-delimited JSON under {@code <prefix>/<type>/accountid=…/region=…/resourcetype=ManagedInstanceInventory/}.
 * Generated for the report benchmark: instance {@code i} of an account-region has patches 0..n-1.
 */
final class GeneratedInventory {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CAPTURE = "2026-11-27T05:00:00Z";
    private static final String[] STATES = {
        "Installed", "Installed", "Installed", "Missing", "Failed", "InstalledPendingReboot"
    };
    private static final String[] CLASSIFICATIONS = {
        "SecurityUpdates", "CriticalUpdates", "Updates", "Security", "Bugfix"
    };
    private static final String[] SEVERITIES = {"Critical", "Important", "Moderate", "Low", ""};
    private static final String[] LEVELS = {"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNSPECIFIED"};

    private GeneratedInventory() {}

    static String key(String prefix, String type, String account, String region, String file) {
        return prefix + "/" + type + "/accountid=" + account + "/region=" + region
                + "/resourcetype=ManagedInstanceInventory/" + file + ".json";
    }

    static String instanceId(String account, String region, int instance) {
        return String.format(
                "i-%s%02d%07x", account.substring(account.length() - 4), Math.abs(region.hashCode()) % 100, instance);
    }

    static String instanceInformation(String account, String region, int instance) {
        String id = instanceId(account, region, instance);
        boolean windows = instance % 4 == 0;
        ObjectNode row = common(account, region, id)
                .put("resourcetype", "EC2Instance")
                .put("agenttype", "amazon-ssm-agent")
                .put("agentversion", "3.3.40.0")
                .put("computername", "ip-10-0-" + (instance / 250) + "-" + (instance % 250) + ".ec2.internal")
                .put("instanceid", id)
                .put("instancestatus", "Active")
                .put("ipaddress", "10.0." + (instance / 250) + "." + (instance % 250))
                .put("platformname", windows ? "Microsoft Windows Server 2022 Datacenter" : "Amazon Linux")
                .put("platformtype", windows ? "Windows" : "Linux")
                .put("platformversion", windows ? "10.0.20348" : "2023");
        return row.toString();
    }

    /** Patch {@code patch} of the instance; titles carry commas and quotes as vendors' titles do. */
    static String complianceItem(String account, String region, int instance, int patch) {
        String id = instanceId(account, region, instance);
        int k = instance * 31 + patch;
        String state = STATES[k % STATES.length];
        String severity = SEVERITIES[k % SEVERITIES.length];
        String kb = "KB" + (5000000 + patch * 37);
        ObjectNode row = common(account, region, id)
                .put("compliancetype", "Patch")
                .put("executiontime", "2026-11-20T05:12:00Z")
                .put("executiontype", "Command")
                .put("executionid", "c0ffee00-0000-4000-8000-" + String.format("%012d", instance))
                .put("id", kb)
                .put("title", "2026-11 Cumulative Update, \"" + kb + "\" for x64-based systems")
                .put("status", state.equals("Installed") ? "COMPLIANT" : "NON_COMPLIANT")
                .put("severity", LEVELS[k % LEVELS.length])
                .put("classification", CLASSIFICATIONS[k % CLASSIFICATIONS.length])
                .put("patchseverity", severity)
                .put("patchstate", state)
                .put("patchbaselineid", "pb-0123456789abcdef0")
                .put("patchgroup", "Default_maintenance_window")
                .put("installedtime", state.equals("Installed") ? "2026-11-20T05:20:00Z" : "");
        return row.toString();
    }

    private static ObjectNode common(String account, String region, String id) {
        return JSON.createObjectNode()
                .put("accountid", account)
                .put("region", region)
                .put("resourcetype", "ManagedInstanceInventory")
                .put("resourceid", id)
                .put("capturetime", CAPTURE)
                .put("schemaversion", "1.0");
    }
}
