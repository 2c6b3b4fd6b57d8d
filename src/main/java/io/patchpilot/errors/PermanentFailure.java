package io.patchpilot.errors;

/**
 * A message that can never succeed (bad JSON, failed validation, unknown sender, foreign
 * account). The error-handling route configuration moves it to its queue's DLQ with this
 * message as the one-line reason and deletes it from the source queue. Anything else that
 * fails is transient: the message stays, SQS redelivers it, and redrive ends in the DLQ.
 */
public class PermanentFailure extends RuntimeException {
    public PermanentFailure(String reason) {
        super(oneLine(reason));
    }

    public PermanentFailure(String reason, Throwable cause) {
        super(oneLine(reason), cause);
    }

    public static String oneLine(String s) {
        String flat =
                s == null ? "rejected" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
        return flat.length() > 900 ? flat.substring(0, 897) + "..." : flat;
    }
}
