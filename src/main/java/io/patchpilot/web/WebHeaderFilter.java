package io.patchpilot.web;

import java.util.Set;
import org.apache.camel.support.DefaultHeaderFilterStrategy;

/**
 * Response headers of the page's static files: Camel's HTTP default drops Cache-Control, which the
 * chart library (1 MB) needs to be cached by the browser between page loads.
 */
public final class WebHeaderFilter extends DefaultHeaderFilterStrategy {
    public WebHeaderFilter() {
        setLowerCase(true);
        setOutFilterStartsWith(CAMEL_FILTER_STARTS_WITH);
        setOutFilter(Set.of(
                "content-length",
                "host",
                "connection",
                "date",
                "pragma",
                "trailer",
                "transfer-encoding",
                "upgrade",
                "via",
                "warning"));
        setInFilterStartsWith(CAMEL_FILTER_STARTS_WITH);
    }
}
