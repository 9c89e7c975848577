package jllm.template;

/**
 * Any failure of a chat template: a syntax error, an error while rendering, a sandbox limit, or the
 * template's own {@code raise_exception(msg)}. {@link #getMessage()} is the bare message (for
 * raise_exception exactly the template's text); {@link #kind()} names the jinja2 exception class the
 * same failure raises in Python (TemplateError, UndefinedError, TypeError, SecurityError, ...), so
 * callers can compare with reference renderings.
 */
public final class TemplateException extends RuntimeException {
    private final String kind;

    public TemplateException(String kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    /** The Python/jinja2 exception type name this failure corresponds to. */
    public String kind() {
        return kind;
    }

    /** {@code kind: message}, the way Python prints {@code type(e).__name__ + ": " + str(e)}. */
    public String describe() {
        return kind + ": " + getMessage();
    }

    static TemplateException type(String msg) {
        return new TemplateException("TypeError", msg);
    }

    static TemplateException value(String msg) {
        return new TemplateException("ValueError", msg);
    }

    static TemplateException syntax(String msg, int line) {
        return new TemplateException("TemplateSyntaxError", msg + " (line " + line + ")");
    }
}
