package jllm.doctor;

import java.util.List;
import java.util.Locale;

/**
 * One problem a doctor command found: a stable {@code code} (scripts and tests match on it), how bad
 * it is, a message that says what is wrong and why it matters, and the fix.
 */
public record Finding(String code, Severity severity, String message, String fix) {
    public enum Severity {
        /** Wrong outputs or a crash as shipped (or for a workflow the files are clearly meant for). */
        ERROR,
        /** Likely a mistake, or breaks a common workflow (batching, fine-tuning, another runtime). */
        WARNING,
        /** Worth knowing; nothing is wrong. */
        INFO;

        public String label() { return name().toLowerCase(Locale.ROOT); }
    }

    public static Finding error(String code, String message, String fix) { return new Finding(code, Severity.ERROR, message, fix); }

    public static Finding warning(String code, String message, String fix) { return new Finding(code, Severity.WARNING, message, fix); }

    public static Finding info(String code, String message, String fix) { return new Finding(code, Severity.INFO, message, fix); }

    public static boolean anyErrors(List<Finding> findings) {
        return findings.stream().anyMatch(f -> f.severity == Severity.ERROR);
    }

    /** {@code {"findings": [{"code", "severity", "message", "fix"}, ...]}}. */
    public static String json(List<Finding> findings) {
        var om = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = om.createObjectNode();
        var arr = root.putArray("findings");
        for (Finding f : findings) {
            var o = arr.addObject();
            o.put("code", f.code);
            o.put("severity", f.severity.label());
            o.put("message", f.message);
            o.put("fix", f.fix);
        }
        try {
            return om.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
