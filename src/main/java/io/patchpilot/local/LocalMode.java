package io.patchpilot.local;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.aws.DaemonThreads;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.service.PatchpilotService;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.organizations.OrganizationsClient;

/**
 * Local mode, as {@code patchpilot local} and the end-to-end tests run it: the local AWS, the hub
 * infrastructure provisioned into it, the fleet loaded into member accounts, and the real service
 * pointed at it. Closing stops the service, then every process the local AWS started.
 */
public final class LocalMode implements AutoCloseable {
    /** A setting {@code stack.hub.NAME} sets the hub template's parameter NAME (tests: schedules). */
    public static final String STACK_PARAMETER = "stack.hub.";
    /** A sample InstallOverrideList for emergency requests, in the hub's override-lists bucket. */
    public static final String SAMPLE_OVERRIDE_LIST = "overrides/critical-2026-11.yaml";
    /** The stages of a start, in order, as {@link #start(Options, Consumer)} reports them done. */
    public static final List<String> STAGES =
            List.of("local AWS up", "organization created", "stacks deployed", "fleet loaded", "service started");

    private final LocalAws localAws;
    private final AwsClients aws;
    private final PatchpilotService service;
    private final PatchpilotConfig config;
    private final FleetLoader.Summary fleet;
    private final LocalStacks.Deployment deployment;
    private final GreenMail mail;
    private final Path outbox;

    private LocalMode(
            LocalAws localAws,
            AwsClients aws,
            PatchpilotService service,
            PatchpilotConfig config,
            FleetLoader.Summary fleet,
            LocalStacks.Deployment deployment,
            GreenMail mail,
            Path outbox) {
        this.deployment = deployment;
        this.mail = mail;
        this.outbox = outbox;
        this.localAws = localAws;
        this.aws = aws;
        this.service = service;
        this.config = config;
        this.fleet = fleet;
    }

    /**
     * {@code stateDir}: where the local AWS keeps its state across a stop and start (null: nowhere,
     * every start is a fresh one). A start that finds a finished start's state there resumes it:
     * nothing is provisioned or launched again.
     */
    public record Options(
            Path home,
            Path fleetFile,
            int awsPort,
            int httpPort,
            List<String> launcherOptions,
            Map<String, String> settings,
            Path stateDir) {
        public Options(
                Path home,
                Path fleetFile,
                int awsPort,
                int httpPort,
                List<String> launcherOptions,
                Map<String, String> settings) {
            this(home, fleetFile, awsPort, httpPort, launcherOptions, settings, null);
        }
    }

    public static LocalMode start(Options o) throws Exception {
        return start(o, FleetFile.read(o.fleetFile()), true, stage -> {});
    }

    /** Tells {@code stageDone} each of {@link #STAGES} as it is done ({@code patchpilot local} prints them). */
    public static LocalMode start(Options o, Consumer<String> stageDone) throws Exception {
        return start(o, FleetFile.read(o.fleetFile()), true, stageDone);
    }

    /** With a fleet built in code (benchmarks generate theirs); {@code o.fleetFile()} is then ignored. */
    public static LocalMode start(Options o, FleetFile fleetFile) throws Exception {
        return start(o, fleetFile, true, stage -> {});
    }

    /**
     * The local AWS with the hub provisioned and the fleet loaded, but without the service: for
     * running the service in processes of its own (restart and replica tests).
     */
    public static LocalMode startWithoutService(Options o) throws Exception {
        return start(o, FleetFile.read(o.fleetFile()), false, stage -> {});
    }

    /** Without the service, with a fleet built in code (the two-replica test generates its own). */
    public static LocalMode startWithoutService(Options o, FleetFile fleetFile) throws Exception {
        return start(o, fleetFile, false, stage -> {});
    }

    private static LocalMode start(Options o, FleetFile fleetFile, boolean withService, Consumer<String> stageDone)
            throws Exception {
        LocalAws.requireFree(o.httpPort());
        Map<String, String> overrides = new HashMap<>();
        Map<String, String> stackParameters = new HashMap<>();
        o.settings().forEach((k, v) -> {
            if (k.startsWith(STACK_PARAMETER)) stackParameters.put(k.substring(STACK_PARAMETER.length()), v);
            else overrides.put(k, v);
        });
        overrides.put("patchpilot.aws.endpoint", "http://127.0.0.1:" + o.awsPort());
        overrides.put("patchpilot.aws.sqs-endpoint", "http://127.0.0.1:" + (o.awsPort() + 1));
        overrides.put("patchpilot.http.port", Integer.toString(o.httpPort()));
        // mail goes to an SMTP server in this process, and a copy of every notification to the outbox
        int smtpPort = overrides.containsKey("patchpilot.mail.port")
                ? Integer.parseInt(overrides.get("patchpilot.mail.port"))
                : LocalAws.freePort();
        overrides.put("patchpilot.mail.host", "127.0.0.1");
        overrides.put("patchpilot.mail.port", Integer.toString(smtpPort));
        overrides.put("patchpilot.mail.starttls", "false");
        Path outbox = Path.of(overrides.getOrDefault(
                        "patchpilot.notify.outbox", o.home().resolve("outbox").toString()))
                .toAbsolutePath();
        overrides.put("patchpilot.notify.outbox", outbox.toString());
        Settings planned = Settings.load(o.home().resolve("config"), "local", System.getenv(), overrides);
        PatchpilotConfig plannedConfig = PatchpilotConfig.from(planned);
        LocalStacks stacks = LocalStacks.read(o.home());
        Optional<LocalState.Started> resumed = LocalState.previousStart(o.stateDir());

        LocalAws.requireFree(smtpPort);
        // while the local AWS starts (its own processes), this JVM loads the SDK's classes: the
        // deployer's clients are ready when the local AWS is
        ExecutorService background = Executors.newCachedThreadPool(DaemonThreads.named("local-start"));
        CompletableFuture<AwsClients> deployerReady = CompletableFuture.supplyAsync(
                () -> {
                    AwsClients c = new AwsClients(plannedConfig);
                    c.buildAll();
                    return c;
                },
                background);
        GreenMail mail = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        LocalAws localAws;
        try {
            mail.start();
            localAws = LocalAws.start(o.home(), o.awsPort(), launcherOptions(o, planned), o.stateDir());
        } catch (Exception | Error e) {
            deployerReady.thenAccept(AwsClients::close);
            background.shutdown();
            mail.stop();
            throw e;
        }
        stageDone.accept(STAGES.get(0));
        AwsClients aws = null;
        PatchpilotService service = null;
        Future<FleetLoader.Summary> fleetLoad = null;
        boolean deployerTaken = false;
        try {
            LocalStacks.Deployment deployment;
            deployerTaken = true;
            try (AwsClients deployer = joined(deployerReady)) {
                if (resumed.isPresent()) {
                    // the local AWS restored what this start would provision: the stacks, the fleet, the operators
                    deployment = resumed.get().deployment();
                    stageDone.accept(STAGES.get(1));
                } else {
                    FleetLoader.createOrganization(localAws.control(), fleetFile);
                    stageDone.accept(STAGES.get(1));
                    deployment = stacks.deploy(
                            deployer.hub(CloudFormationClient.class),
                            planned,
                            plannedConfig,
                            stackParameters,
                            organizationId(deployer),
                            rootId(deployer),
                            members(fleetFile, plannedConfig));
                }
            }
            stageDone.accept(STAGES.get(2));
            // the service reads the hub stack's outputs, as the task definition passes them in AWS
            overrides.putAll(deployment.settings());
            Settings settings = Settings.load(o.home().resolve("config"), "local", System.getenv(), overrides);
            PatchpilotConfig config = PatchpilotConfig.from(settings);
            AwsClients clients = new AwsClients(config);
            aws = clients;
            if (resumed.isPresent()) {
                fleetLoad = CompletableFuture.completedFuture(resumed.get().fleet());
            } else {
                LocalOperators.create(aws, settings.listOrEmpty("patchpilot.emergency.override-buckets"));
                // the fleet loads (work of the local AWS) while Camel loads its routes (work of this JVM);
                // the routes consume only once the fleet is there
                fleetLoad = background.submit(() -> new FleetLoader(clients, localAws.control()).load(fleetFile));
            }
            if (withService) {
                service = new PatchpilotService(o.home(), settings, config, aws, Map.of());
                service.prepare();
            }
            FleetLoader.Summary summary = joined(fleetLoad);
            if (resumed.isEmpty() && o.stateDir() != null) LocalState.started(o.stateDir(), deployment, summary);
            stageDone.accept(STAGES.get(3));
            if (withService) {
                service.start();
                stageDone.accept(STAGES.get(4));
            }
            background.shutdown();
            return new LocalMode(localAws, aws, service, config, summary, deployment, mail, outbox);
        } catch (Exception | Error e) {
            if (fleetLoad != null) {
                fleetLoad.cancel(true);
                background.shutdownNow();
                background.awaitTermination(30, TimeUnit.SECONDS);
            }
            if (!deployerTaken) deployerReady.thenAccept(AwsClients::close);
            background.shutdown();
            if (service != null) service.close();
            if (aws != null) aws.close();
            localAws.close();
            mail.stop();
            throw e;
        }
    }

    /** The value of work done on another thread, its failure rethrown as it was thrown. */
    private static <T> T joined(Future<T> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) throw x;
            if (e.getCause() instanceof Error x) throw x;
            throw e;
        }
    }

    /** The launcher's options, with the local Athena's Trino started at once when reports run on Athena. */
    private static List<String> launcherOptions(Options o, Settings planned) {
        List<String> out = new ArrayList<>(o.launcherOptions());
        if (planned.optional("patchpilot.report.engine").orElse("duckdb").equals("athena")
                && !out.contains("--report-engine")) out.addAll(List.of("--report-engine", "athena"));
        return out;
    }

    /** Each member account with the regions of patchpilot.regions it has enabled. */
    private static Map<String, List<String>> members(FleetFile fleet, PatchpilotConfig config) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (FleetFile.Account a : fleet.accounts()) {
            out.put(
                    a.id(),
                    config.regions().stream()
                            .filter(r -> !a.disabledRegions().contains(r))
                            .toList());
        }
        return out;
    }

    private static String organizationId(AwsClients aws) {
        return aws.hub(OrganizationsClient.class)
                .describeOrganization()
                .organization()
                .id();
    }

    private static String rootId(AwsClients aws) {
        return aws.hub(OrganizationsClient.class).listRoots().roots().get(0).id();
    }

    public LocalAws localAws() {
        return localAws;
    }

    public AwsClients aws() {
        return aws;
    }

    /** The in-process service (null when started without one). */
    public PatchpilotService service() {
        return service;
    }

    public PatchpilotConfig config() {
        return config;
    }

    /** The SMTP server notifications are mailed to (loopback; every address accepted). */
    public GreenMail mail() {
        return mail;
    }

    /** Where a copy of every mail (.eml) and Slack post (.json) is written. */
    public Path outbox() {
        return outbox;
    }

    /** The hub stack and member StackSet deployed from deploy/cloudformation/. */
    public LocalStacks.Deployment deployment() {
        return deployment;
    }

    public FleetLoader.Summary fleet() {
        return fleet;
    }

    @Override
    public void close() {
        try {
            if (service != null) service.close();
        } finally {
            aws.close();
            localAws.close();
            mail.stop();
        }
    }
}
