package io.patchpilot.aws;

/** One member account in one region: the unit of fan-out. */
public record AccountRegion(String account, String region) {
    @Override
    public String toString() {
        return account + "/" + region;
    }
}
