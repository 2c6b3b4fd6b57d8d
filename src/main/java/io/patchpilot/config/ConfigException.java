package io.patchpilot.config;

/**
 * A user mistake in configuration or an input file. Its message is one line that names the key
 * (or file and line) and what is wrong; the CLI prints it without a stack trace.
 */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message.replace('\n', ' '));
    }
}
