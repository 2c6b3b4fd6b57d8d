package io.patchpilot.aws;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;
import software.amazon.awssdk.services.organizations.OrganizationsClient;
import software.amazon.awssdk.services.organizations.model.Account;
import software.amazon.awssdk.services.organizations.model.AccountStatus;

/**
 * The organization's ACTIVE member accounts, listed from Organizations (paginated) and cached
 * briefly: a message naming an account outside this set is refused, never acted on.
 */
public class Organization {
    private static final Duration TTL = Duration.ofMinutes(5);
    private final AwsClients aws;
    private final Clock clock;
    private volatile Set<String> accounts = Set.of();
    private volatile Instant listedAt = Instant.MIN;

    public Organization(AwsClients aws, Clock clock) {
        this.aws = aws;
        this.clock = clock;
    }

    public boolean isActiveMember(String account) {
        if (activeAccounts().contains(account)) return true;
        // a new account may have joined since the last listing: look once more before refusing
        if (Duration.between(listedAt, clock.instant()).compareTo(Duration.ofSeconds(30)) > 0)
            return refresh().contains(account);
        return false;
    }

    public Set<String> activeAccounts() {
        if (Duration.between(listedAt, clock.instant()).compareTo(TTL) > 0) return refresh();
        return accounts;
    }

    @AwsActions(value = "organizations:ListAccounts", principal = AwsActions.Principal.HUB)
    private synchronized Set<String> refresh() {
        Set<String> active = new LinkedHashSet<>();
        for (Account a : aws.hub(OrganizationsClient.class).listAccountsPaginator(r -> {}).stream()
                .flatMap(p -> p.accounts().stream())
                .toList()) {
            if (a.status() == AccountStatus.ACTIVE) active.add(a.id());
        }
        accounts = Set.copyOf(active);
        listedAt = clock.instant();
        return accounts;
    }
}
