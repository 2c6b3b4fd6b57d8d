package io.patchpilot.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OutputLinksTest {
    private static final String BUCKET = "patchpilot-patch-logs-999999999999-us-east-1";
    private static final String RUN = "Default-20261211T0500Z";
    private static final String PREFIX = "patching/accountid=222222222222/region=us-east-1/run=" + RUN
            + "/9d33f2d3-30ad-4a85-ba79-1d597c2f7b5f/i-5b1b0f70621df3bd9/";

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "the run's own output, true, s3://" + BUCKET + "/" + PREFIX,
        "another bucket, false, s3://someone-elses-bucket/" + PREFIX,
        "a bucket whose name starts like the hub's, false, s3://" + BUCKET + "-copy/" + PREFIX,
        "another run's prefix, false, s3://" + BUCKET
                + "/patching/accountid=222222222222/region=us-east-1/run=Other-20261211T0500Z/c-1/i-5b1b0f70621df3bd9/",
        "a path climbing out, false, s3://" + BUCKET + "/patching/accountid=222222222222/region=us-east-1/run=" + RUN
                + "/../../x/i-5b1b0f70621df3bd9/",
        "the whole run, false, s3://" + BUCKET + "/patching/accountid=222222222222/region=us-east-1/run=" + RUN + "/",
        "the bucket root, false, s3://" + BUCKET + "/",
        "not an s3 address, false, https://example.com/" + PREFIX
    })
    void only_the_hubs_logs_bucket_under_the_runs_own_prefix_is_linked(String what, boolean linked, String location) {
        assertEquals(
                linked ? Optional.of(PREFIX) : Optional.empty(), OutputLinks.linkable(location, BUCKET, RUN), what);
    }
}
