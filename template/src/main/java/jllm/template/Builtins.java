package jllm.template;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jllm.template.Values.*;

/** Global functions: jinja2's defaults plus transformers' {@code raise_exception} and {@code strftime_now}. */
final class Builtins {
    private Builtins() {
    }

    /** The sandbox's cap on {@code range()}, same as jinja2's MAX_RANGE. */
    static final int MAX_RANGE = 100_000;

    static void install(Map<String, Object> g) {
        Map<String, Object> raw = new java.util.LinkedHashMap<>();
        installRaw(raw);
        for (var e : raw.entrySet()) {
            String type = Set.of("range", "dict", "namespace", "cycler", "joiner").contains(e.getKey()) ? "type" : "function";
            g.put(e.getKey(), new Builtin(e.getKey(), type, (PyCallable) e.getValue()));
        }
    }

    private static void installRaw(Map<String, Object> g) {
        g.put("range", (PyCallable) Builtins::range);
        g.put("dict", (PyCallable) (in, args, kw) -> dict(args, kw));
        g.put("namespace", (PyCallable) (in, args, kw) -> {
            Namespace ns = new Namespace();
            // jinja2's Namespace takes dict()'s arguments.
            Map<Object, Object> attrs = dict(args, kw);
            in.budget.dict(attrs.size());
            for (var e : attrs.entrySet()) ns.attrs.put(Py.str(e.getKey()), e.getValue());
            return ns;
        });
        g.put("raise_exception", (PyCallable) (in, args, kw) -> {
            throw new TemplateException("TemplateError", args.isEmpty() ? "" : Py.str(args.getFirst()));
        });
        g.put("strftime_now", (PyCallable) (in, args, kw) -> {
            if (args.size() != 1) throw TemplateException.type("strftime_now() takes exactly one argument");
            return Format.strftime(in.now, Py.str(args.getFirst()));
        });
        g.put("cycler", (PyCallable) (in, args, kw) -> {
            throw TemplateException.type("cycler() is not supported");
        });
        g.put("joiner", (PyCallable) (in, args, kw) -> {
            String sep = args.isEmpty() ? ", " : Py.str(args.getFirst());
            boolean[] used = {false};
            return (PyCallable) (i2, a2, k2) -> {
                if (!used[0]) {
                    used[0] = true;
                    return "";
                }
                return sep;
            };
        });
    }

    /** Python's dict(mapping_or_pairs, **kwargs). */
    static Map<Object, Object> dict(List<Object> args, Map<String, Object> kw) {
        Budget b = Budget.current();
        Map<Object, Object> out = new LinkedHashMap<>();
        if (args.size() > 1) throw TemplateException.type("dict expected at most 1 argument, got " + args.size());
        b.dict(kw.size());
        if (args.size() == 1) {
            Object a = Py.unwrap(args.getFirst());
            if (a instanceof Undefined u) throw u.error(); // dict() probes .keys(), which Undefined refuses
            if (a instanceof Map<?, ?> m) {
                b.dict(m.size());
                out.putAll(m);
            } else {
                if (!Py.isIterable(a)) throw TemplateException.type("'" + Py.typeName(a) + "' object is not iterable");
                int i = 0;
                List<Object> pairs = Py.iterate(a);
                b.dict(pairs.size());
                for (Object pair : pairs) {
                    if (!Py.isIterable(Py.unwrap(pair)))
                        throw TemplateException.type("cannot convert dictionary update sequence element #" + i + " to a sequence");
                    List<Object> kv = Py.iterate(pair);
                    if (kv.size() != 2)
                        throw TemplateException.value("dictionary update sequence element #" + i + " has length " + kv.size() + "; 2 is required");
                    Py.checkHashable(kv.get(0));
                    Py.putKey(out, Py.unwrap(kv.get(0)), kv.get(1));
                    i++;
                }
            }
        }
        out.putAll(kw);
        return out;
    }

    private static Object range(Interpreter in, List<Object> args, Map<String, Object> kw) {
        Ops.noKwargs(kw, "range");
        if (args.isEmpty() || args.size() > 3) throw TemplateException.type("range expected 1 to 3 arguments, got " + args.size());
        for (Object a : args) if (!Py.isInt(a)) throw TemplateException.type("'" + Py.typeName(a) + "' object cannot be interpreted as an integer");
        BigInteger start = BigInteger.ZERO, stop, step = BigInteger.ONE;
        if (args.size() == 1) stop = Py.toBig(args.getFirst());
        else {
            start = Py.toBig(args.get(0));
            stop = Py.toBig(args.get(1));
            if (args.size() == 3) step = Py.toBig(args.get(2));
        }
        if (step.signum() == 0) throw TemplateException.value("range() arg 3 must not be zero");
        // Python's length of the range, exact for any bounds (they may be far outside 64 bits).
        BigInteger span = step.signum() > 0 ? stop.subtract(start) : start.subtract(stop);
        BigInteger len = span.signum() <= 0 ? BigInteger.ZERO : span.add(step.abs()).subtract(BigInteger.ONE).divide(step.abs());
        if (len.bitLength() > 63) throw new TemplateException("OverflowError", "Python int too large to convert to C ssize_t");
        long n = len.longValue();
        if (n > MAX_RANGE)
            throw new TemplateException("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (" + MAX_RANGE + ").");
        // Within MAX_RANGE items every element is start + i * step; only the printed bounds may be huge.
        if (start.bitLength() > 63 || stop.bitLength() > 63 || step.bitLength() > 63 || n > 0 && start.add(step.multiply(len)).bitLength() > 63)
            throw new TemplateException("LimitError", "range bounds beyond 64 bits are not supported");
        return new Range(start.longValue(), stop.longValue(), step.longValue(), (int) n);
    }
}
