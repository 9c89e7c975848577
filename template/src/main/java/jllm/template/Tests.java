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

    private static final Set<String> NO_ARGS = Set.of("defined", "undefined", "none", "boolean", "true", "false", "integer", "float",
            "number", "string", "mapping", "sequence", "iterable", "escaped", "lower", "upper", "even", "odd");
    private static final Set<String> ONE_ARG = Set.of("divisibleby", "sameas", "in");

    static Object apply(Interpreter in, String name, Object value, List<Object> args, Scope scope) {
        if (NO_ARGS.contains(name) && !args.isEmpty())
            throw TemplateException.type("test_" + name + "() takes 1 positional argument but " + (args.size() + 1) + " were given");
        if (ONE_ARG.contains(name) && args.size() > 1)
            throw TemplateException.type("test_" + name + "() takes 2 positional arguments but " + (args.size() + 1) + " were given");
        if (name.equals("callable") && !args.isEmpty())
            throw TemplateException.type("callable() takes exactly one argument (" + (args.size() + 1) + " given)");
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
            case "callable" -> value instanceof PyCallable || value instanceof Undefined;
            case "escaped" -> raw instanceof Markup;
            case "lower", "upper" -> {
                // jinja2 tests str(value), so a dict or list can be "lower" too.
                String str = Py.str(raw);
                yield name.equals("lower") ? Strs.isLower(str) : Strs.isUpper(str);
            }
            case "even", "odd" -> {
                Object r = Ops.binary(in, "%", value, 2L);
                yield Py.eq(r, name.equals("even") ? 0L : 1L);
            }
            case "divisibleby" -> Py.eq(Ops.binary(in, "%", value, need(args, name)), 0L);
            case "eq", "equalto", "==" -> Py.eq(value, need(args, name));
            case "ne", "!=" -> !Py.eq(value, need(args, name));
            case "lt", "lessthan", "<" -> Py.compare(value, need(args, name), "<") < 0;
            case "le", "<=" -> Py.compare(value, need(args, name), "<=") <= 0;
            case "gt", "greaterthan", ">" -> Py.compare(value, need(args, name), ">") > 0;
            case "ge", ">=" -> Py.compare(value, need(args, name), ">=") >= 0;
            case "in" -> Py.contains(need(args, name), value);
            case "sameas" -> need(args, name) == arg || (value == null && arg == null) || (value instanceof Boolean && value.equals(arg));
            case "filter" -> value instanceof String s && Filters.NAMES.contains(s);
            case "test" -> value instanceof String s && NAMES.contains(s);
            default -> throw new TemplateException("TemplateRuntimeError", "No test named " + Py.repr(name) + " found.");
        };
    }

    private static Object need(List<Object> args, String name) {
        if (args.isEmpty()) {
            // Comparison tests are Python's operator functions; the others are jinja2's test_* functions.
            String op = switch (name) {
                case "eq", "equalto", "==" -> "eq";
                case "ne", "!=" -> "ne";
                case "lt", "lessthan", "<" -> "lt";
                case "le", "<=" -> "le";
                case "gt", "greaterthan", ">" -> "gt";
                case "ge", ">=" -> "ge";
                default -> null;
            };
            if (op != null) throw TemplateException.type(op + " expected 2 arguments, got 1");
            String param = switch (name) {
                case "divisibleby" -> "num";
                case "in" -> "seq";
                default -> "other";
            };
            throw TemplateException.type("test_" + name + "() missing 1 required positional argument: '" + param + "'");
        }
        if (args.size() > 1 && !Set.of("divisibleby", "in", "sameas").contains(name))
            throw TemplateException.type(name + " expected 2 arguments, got " + (args.size() + 1));
        return Py.unwrap(args.getFirst());
    }
}
