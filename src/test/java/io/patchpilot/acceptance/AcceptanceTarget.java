package io.patchpilot.acceptance;

import com.icegreen.greenmail.util.GreenMail;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.ledger.Ledger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Where the acceptance journey runs: local mode, or a real sandbox account. Either way the stacks
 * come from {@code deploy/cloudformation/}, the service runs in this JVM against them and mails to
 * an SMTP server in this JVM; only what differs between the two is here.
 */
interface AcceptanceTarget extends AutoCloseable {
    String describe();

    AwsClients aws();

    PatchpilotConfig config();

    Ledger ledger();

    GreenMail mail();

    String hubStack();

    /** The member stacks: account/region → stack status as CloudFormation reports it. */
    List<String> memberStacksNotComplete();

    /** Every member account × region patchpilot patches here. */
    List<AccountRegion> accountRegions();

    /** How long AWS Config and SSM take here to evaluate a change or finish a command. */
    Duration patience();

    /** Where the journey launches its instance. */
    AccountRegion member();

    /** Launches one untagged instance (tagged only with what marks it as the suite's) and answers its id. */
    String launchUntaggedInstance(String runTag);

    /** Delivers the Default window's occurrence {@code at}, as its schedule rule does. */
    void fireDefaultWindow(Instant at);

    /** Sends an emergency request as a requester, then approves it as an approver. */
    void requestAndApproveEmergency(String requestJson, String requestId);

    /** Queues a report run, as the daily rule or {@code patchpilot report run} does. */
    void runReport();

    @Override
    void close();
}
