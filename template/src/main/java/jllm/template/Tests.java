package jllm.template;

import java.util.List;
import java.util.Set;

import jllm.template.Interpreter.Scope;
import jllm.template.Values.*;

/** jinja2's builtin tests ({@code x is defined}, {@code x is string}, ...). */
final class Tests {
    private Tests() {
    }

    static final Set<String> NAMES = Set.of("boolean", "callable", "defined", "divisibleby", "eq", "equalto", "escaped", "even",
            "false", "filter", "float", "ge", "gt", "greaterthan", "in", "integer", "iterable", "le", "lower", "lt", "lessthan",
            "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string", "test", "true", "undefined", "upper",
            "==", "!=", "<", ">", "<=", ">=");

    static Object apply(Interpreter in, String name, Object value, List<Object> args, Scope scope) {
        Object raw = value;
        value = Py.unwrap(value);
        Object arg = args.isEmpty() ? null : Py.unwrap(args.getFirst());
        return switch (name) {
            case "defined" -> !(value instanceof Undefined);
            case "undefined" -> value instanceof Undefined;
            case "none" -> value == null;
            case "boolean" -> value instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(value);
            case "false" -> Boolean.FALSE.equals(value);
            case "integer" -> value instanceof Long || value instanceof java.math.BigInteger;
            case "float" -> value instanceof Double;
            case "number" -> Py.isNumber(value);
            case "string" -> value instanceof String;
            case "mapping" -> value instanceof java.util.Map;
            case "sequence" -> value instanceof String || value instanceof List || value instanceof java.util.Map || value instanceof Undefined;
            case "iterable" -> Py.isIterable(value);
            case "callable" -> value instanceof PyCallable;
            case "escaped" -> raw instanceof Markup;
            case "lower" -> value instanceof String s && !s.isEmpty() && s.equals(s.toLowerCase(java.util.Locale.ROOT)) && !s.equals(s.toUpperCase(java.util.Locale.ROOT));
            case "upper" -> value instanceof String s && !s.isEmpty() && s.equals(s.toUpperCase(java.util.Locale.ROOT)) && !s.equals(s.toLowerCase(java.util.Locale.ROOT));
            case "even", "odd" -> {
                if (value instanceof Undefined u) throw u.error();
                if (!Py.isNumber(value)) throw TemplateException.type("not all arguments converted during string formatting");
                Object r = Ops.binary(in, "%", value, 2L);
                yield name.equals("even") == Py.eq(r, 0L);
            }
            case "divisibleby" -> Py.eq(Ops.binary(in, "%", value, need(args, name)), 0L);
            case "eq", "equalto", "==" -> Py.eq(value, need(args, name));
            case "ne", "!=" -> !Py.eq(value, need(args, name));
            case "lt", "lessthan", "<" -> Py.compare(value, need(args, name), "<") < 0;
            case "le", "<=" -> Py.compare(value, need(args, name), "<=") <= 0;
            case "gt", "greaterthan", ">" -> Py.compare(value, need(args, name), ">") > 0;
            case "ge", ">=" -> Py.compare(value, need(args, name), ">=") >= 0;
            case "in" -> Py.contains(need(args, name), value);
            case "sameas" -> value == arg || (value == null && arg == null) || (value instanceof Boolean && value.equals(arg));
            case "filter" -> value instanceof String s && Filters.NAMES.contains(s);
            case "test" -> value instanceof String s && NAMES.contains(s);
            default -> throw new TemplateException("TemplateRuntimeError", "No test named '" + name + "' found.");
        };
    }

    private static Object need(List<Object> args, String name) {
        if (args.isEmpty()) throw TemplateException.type("test_" + name + "() missing 1 required positional argument");
        return Py.unwrap(args.getFirst());
    }
}
