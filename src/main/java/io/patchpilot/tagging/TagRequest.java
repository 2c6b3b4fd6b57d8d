package io.patchpilot.tagging;

import io.patchpilot.aws.AccountRegion;

/** One resource to bring to its right patch tags, and what asked for it (event id or sweep run). */
public record TagRequest(AccountRegion target, ResourceKind kind, String resourceId, String cause) {}
