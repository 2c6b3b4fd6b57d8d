package io.patchpilot.service;

import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.errors.DeadLetters;
import io.patchpilot.errors.SqsAcknowledger;
import io.patchpilot.errors.TransientBackoff;
import io.patchpilot.notify.NotifySettings;
import io.patchpilot.web.AccessGuard;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowRules;
import io.patchpilot.windows.WindowSchedule;
import io.patchpilot.windows.WindowStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import org.apache.camel.CamelContext;
import org.apache.camel.component.mail.MailComponent;
import org.apache.camel.component.mail.MailConfiguration;
import org.apache.camel.main.Main;
import software.amazon.awssdk.services.athena.AthenaClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The Camel service: routes from {@code routes/*.camel.yaml}, beans bound in the registry, hub
 * SDK clients bound so the aws2 components autowire them. Same code locally and in AWS; only
 * the endpoints in {@link PatchpilotConfig} differ.
 */
public final class PatchpilotService implements AutoCloseable {
    private final Main main = new Main();
    private final PatchpilotConfig config;
    private boolean prepared;

    public PatchpilotService(
            Path home, Settings settings, PatchpilotConfig config, AwsClients aws, Map<String, Object> extraBeans) {
        this.config = config;
        Properties props = settings.nonSecretProperties();
        props.setProperty("camel.main.name", "patchpilot");
        props.setProperty(
                "camel.main.routes-include-pattern", home.resolve("routes").toUri() + "*.camel.yaml");
        props.setProperty("camel.main.shutdown-timeout", "30");
        props.setProperty("camel.main.jmx-enabled", "false");
        props.setProperty("camel.server.enabled", "true");
        props.setProperty("camel.server.host", config.http().host());
        props.setProperty("camel.server.port", Integer.toString(config.http().port()));
        main.setInitialProperties(props);
        main.setDefaultPropertyPlaceholderLocation("false");

        SqsClient sqs = aws.hub(SqsClient.class);
        main.bind("awsClients", aws);
        main.bind("patchpilotConfig", config);
        main.bind("sqsClient", sqs);
        main.bind("s3Client", aws.hub(S3Client.class));
        main.bind("eventBridgeClient", aws.hub(EventBridgeClient.class));
        main.bind("athenaClient", aws.hub(AthenaClient.class));
        // messages held longer than the queues' visibility timeout are kept from other consumers
        SqsAcknowledger acks = new SqsAcknowledger(sqs, 20, true);
        main.bind("sqsAcknowledger", acks);
        DeadLetters deadLetters = new DeadLetters(sqs, acks);
        main.bind("deadLetters", deadLetters);
        main.bind(
                "transientBackoff",
                new TransientBackoff(
                        sqs,
                        acks,
                        Duration.ofSeconds(settings.intOr("patchpilot.queue.visibility-seconds", 120, 0, 43200)),
                        deadLetters,
                        config.queues().maxReceiveCount()));
        ServiceBeans.create(home, settings, config, aws, acks).forEach(main::bind);
        extraBeans.forEach(main::bind);
        main.bind("smtp", mailComponent(NotifySettings.from(settings)));
        main.bind("healthCheck", new HealthCheck(sqs, aws.hub(DynamoDbClient.class), config, Clock.systemUTC()));
    }

    /** camel-mail's SMTP producer, configured here so the password never appears in an endpoint URI. */
    private static MailComponent mailComponent(NotifySettings n) {
        MailConfiguration c = new MailConfiguration();
        n.mailUser().ifPresent(c::setUsername);
        n.mailPassword().ifPresent(c::setPassword);
        c.setFrom(n.from());
        c.setConnectionTimeout(10_000);
        Properties javaMail = new Properties();
        javaMail.setProperty("mail.smtp.starttls.enable", Boolean.toString(n.startTls()));
        javaMail.setProperty("mail.smtp.starttls.required", Boolean.toString(n.startTls()));
        javaMail.setProperty("mail.smtp.timeout", "20000");
        c.setAdditionalJavaMailProperties(javaMail);
        return new MailComponent(c);
    }

    /**
     * Camel started with every route loaded but none consuming yet: the slow part of a start (class
     * loading, reading the routes, the HTTP server), done while local mode still loads the fleet.
     * {@link #start()} then starts the routes.
     */
    public void prepare() throws Exception {
        main.configure().setAutoStartup(false);
        main.start();
        prepared = true;
    }

    public void start() throws Exception {
        if (prepared) main.getCamelContext().getRouteController().startAllRoutes();
        else main.start();
        main.getCamelContext()
                .getRegistry()
                .lookupByNameAndType("accessGuard", AccessGuard.class)
                .install(main.getCamelContext(), config.http().port());
        ensureDefaultWindow();
        main.getCamelContext()
                .getRegistry()
                .lookupByNameAndType("windowRules", WindowRules.class)
                .sync(main.getCamelContext().createProducerTemplate());
    }

    /** The organization-wide Default window exists from the first start on (created once, whoever starts first). */
    private void ensureDefaultWindow() {
        WindowStore store = main.getCamelContext().getRegistry().lookupByNameAndType("windowStore", WindowStore.class);
        MaintenanceWindow d = MaintenanceWindow.defaultWindow(null);
        store.putIfAbsent(d.withAnchor(WindowSchedule.anchorFor(d, Instant.now())));
    }

    public CamelContext camel() {
        return main.getCamelContext();
    }

    public PatchpilotConfig config() {
        return config;
    }

    @Override
    public void close() {
        try {
            main.stop();
        } catch (Exception e) {
            throw new IllegalStateException("Camel did not stop cleanly: " + e.getMessage(), e);
        }
    }
}
