package io.patchpilot.deploy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.Capability;
import software.amazon.awssdk.services.cloudformation.model.Parameter;
import software.amazon.awssdk.services.cloudformation.model.PermissionModels;
import software.amazon.awssdk.services.cloudformation.model.Stack;
import software.amazon.awssdk.services.cloudformation.model.StackEvent;
import software.amazon.awssdk.services.cloudformation.model.StackSetOperationStatus;
import software.amazon.awssdk.services.cloudformation.model.StackStatus;
import software.amazon.awssdk.services.cloudformation.model.Tag;

/**
 * Deploys the templates of {@code deploy/cloudformation/} through CloudFormation, as a platform
 * team would: the hub stack with CreateStack, the member StackSet with CreateStackSet and
 * CreateStackInstances. Used by local mode against the local AWS and by the acceptance suite
 * against a sandbox account; the service itself never deploys anything.
 */
public final class StackDeployer {
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Set<StackStatus> FAILED = Set.of(
            StackStatus.CREATE_FAILED,
            StackStatus.ROLLBACK_COMPLETE,
            StackStatus.ROLLBACK_FAILED,
            StackStatus.ROLLBACK_IN_PROGRESS,
            StackStatus.DELETE_COMPLETE);

    private static final Tag DEPLOYED_BY =
            Tag.builder().key("patchpilot:deployed-by").value("patchpilot").build();

    private final CloudFormationClient cfn;
    private final Duration timeout;

    public StackDeployer(CloudFormationClient cfn, Duration timeout) {
        this.cfn = cfn;
        this.timeout = timeout;
    }

    /** Creates the stack, waits for CREATE_COMPLETE and answers its outputs (key → value). */
    public Map<String, String> createStack(String name, String templateBody, Map<String, String> parameters) {
        cfn.createStack(r -> r.stackName(name)
                .templateBody(templateBody)
                .parameters(parameters(parameters))
                .capabilities(Capability.CAPABILITY_NAMED_IAM)
                .tags(DEPLOYED_BY));
        Instant deadline = Instant.now().plus(timeout);
        while (true) {
            Stack stack = cfn.describeStacks(r -> r.stackName(name)).stacks().get(0);
            if (stack.stackStatus() == StackStatus.CREATE_COMPLETE) {
                Map<String, String> outputs = new LinkedHashMap<>();
                stack.outputs().forEach(o -> outputs.put(o.outputKey(), o.outputValue()));
                return outputs;
            }
            if (FAILED.contains(stack.stackStatus()))
                throw new IllegalStateException(
                        "stack " + name + " " + stack.stackStatus() + ": " + firstFailure(name));
            sleepUntil(deadline, "stack " + name + " still " + stack.stackStatus());
        }
    }

    /**
     * Creates a service-managed StackSet and its instances in exactly {@code accounts} (within the
     * organization root {@code rootId}) × {@code regions}, and waits for the operation.
     */
    public void createStackSet(
            String name,
            String templateBody,
            Map<String, String> parameters,
            String rootId,
            List<String> accounts,
            List<String> regions) {
        cfn.createStackSet(r -> r.stackSetName(name)
                .templateBody(templateBody)
                .parameters(parameters(parameters))
                .capabilities(Capability.CAPABILITY_NAMED_IAM)
                .permissionModel(PermissionModels.SERVICE_MANAGED)
                .autoDeployment(a -> a.enabled(true).retainStacksOnAccountRemoval(false))
                .tags(DEPLOYED_BY));
        addStackInstances(name, rootId, accounts, regions);
    }

    /** Adds stack instances for {@code accounts} × {@code regions} and waits for the operation. */
    public void addStackInstances(String name, String rootId, List<String> accounts, List<String> regions) {
        String operation = cfn.createStackInstances(r -> r.stackSetName(name)
                        .deploymentTargets(t -> t.organizationalUnitIds(rootId)
                                .accounts(accounts)
                                .accountFilterType("INTERSECTION"))
                        .regions(regions)
                        .operationPreferences(p -> p.regionConcurrencyType("PARALLEL")
                                .maxConcurrentPercentage(100)
                                .failureTolerancePercentage(0)))
                .operationId();
        Instant deadline = Instant.now().plus(timeout);
        while (true) {
            StackSetOperationStatus status = cfn.describeStackSetOperation(
                            r -> r.stackSetName(name).operationId(operation))
                    .stackSetOperation()
                    .status();
            if (status == StackSetOperationStatus.SUCCEEDED) return;
            if (status == StackSetOperationStatus.FAILED || status == StackSetOperationStatus.STOPPED)
                throw new IllegalStateException(
                        "StackSet " + name + " operation " + operation + " " + status + ": " + failedInstances(name));
            sleepUntil(deadline, "StackSet " + name + " operation still " + status);
        }
    }

    private String firstFailure(String stack) {
        List<StackEvent> events =
                cfn.describeStackEvents(r -> r.stackName(stack)).stackEvents();
        for (int i = events.size() - 1; i >= 0; i--) {
            StackEvent e = events.get(i);
            if (e.resourceStatusAsString() != null && e.resourceStatusAsString().endsWith("_FAILED"))
                return e.logicalResourceId() + " (" + e.resourceType() + "): " + e.resourceStatusReason();
        }
        return "no failed resource reported";
    }

    private String failedInstances(String stackSet) {
        List<String> out = new ArrayList<>();
        cfn.listStackInstances(r -> r.stackSetName(stackSet)).summaries().stream()
                .filter(s -> !"CURRENT".equals(s.statusAsString()))
                .forEach(s -> out.add(s.account() + "/" + s.region() + " " + s.statusReason()));
        return out.isEmpty() ? "no failed instance reported" : String.join("; ", out);
    }

    private void sleepUntil(Instant deadline, String what) {
        if (Instant.now().isAfter(deadline))
            throw new IllegalStateException(what + " after " + timeout.toSeconds() + " s");
        try {
            Thread.sleep(POLL.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting: " + what);
        }
    }

    private static List<Parameter> parameters(Map<String, String> values) {
        List<Parameter> out = new ArrayList<>();
        values.forEach((k, v) ->
                out.add(Parameter.builder().parameterKey(k).parameterValue(v).build()));
        return out;
    }

    private static final Pattern TOP_LEVEL_KEY = Pattern.compile("^(\\S[^:]*):");
    private static final Pattern RESOURCE_KEY = Pattern.compile("^  ([A-Za-z0-9]+):\\s*$");

    /**
     * The template without the named resources (for what cannot run where it is deployed, e.g. the
     * ECS service in local mode). Works on the text so the template's short-form tags stay as they
     * are; fails when a resource left in the template still refers to a removed one.
     */
    public static String withoutResources(String template, Set<String> logicalIds) {
        StringBuilder out = new StringBuilder();
        Set<String> found = new HashSet<>();
        boolean inResources = false;
        boolean skipping = false;
        for (String line : template.split("\n", -1)) {
            Matcher top = TOP_LEVEL_KEY.matcher(line);
            if (top.find()) {
                inResources = top.group(1).equals("Resources");
                skipping = false;
            } else if (inResources) {
                Matcher resource = RESOURCE_KEY.matcher(line);
                if (resource.matches()) {
                    skipping = logicalIds.contains(resource.group(1));
                    if (skipping) found.add(resource.group(1));
                } else if (!line.isBlank() && !line.startsWith("   ") && !line.startsWith("  #")) {
                    skipping = false;
                }
            }
            if (!skipping) out.append(line).append('\n');
        }
        String result = out.substring(0, out.length() - 1);
        for (String id : logicalIds) {
            if (!found.contains(id)) throw new IllegalArgumentException("template has no resource " + id);
            Pattern ref = Pattern.compile("(!Ref\\s+" + id + "\\b|!GetAtt\\s+" + id + "\\.|Ref:\\s*" + id + "\\b)");
            Matcher m = ref.matcher(result);
            if (m.find())
                throw new IllegalArgumentException(
                        "resource " + id + " is left out but still referenced (" + m.group() + ")");
        }
        return result;
    }
}
