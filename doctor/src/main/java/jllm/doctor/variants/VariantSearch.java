package jllm.doctor.variants;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import jllm.doctor.ReferenceCompare;
import jllm.model.Model;
import jllm.model.Spec;
import jllm.tensor.Precision;

/**
 * Re-runs a model with implementation variants toggled ({@link Setting}) and ranks them by their
 * error against a reference trace: the variant that produced the reference comes first.
 *
 * <p>Only the settings that apply to the model are varied. The search: the full product of their
 * values when it is small ({@link #FULL_LIMIT} combinations or fewer), otherwise a coordinate
 * search: the model's own settings; each setting changed alone; the changes that helped, added one
 * at a time from the most helpful, each kept only if the error drops; then rounds of trying every
 * other value of every setting from the best so far, until none helps. Every combination run is
 * ranked: by the largest relative L2 error over the reference's tensors, then by the mean log10
 * error (so ties in the worst tensor are broken by all the others), then by fewer changes.
 *
 * <p>Run the model on a reproducible backend ({@code CpuBackend.reproducible}): otherwise the same
 * combination can differ in its last bits between runs (JIT-dependent lane reductions), enough to
 * reorder variants that compute the same thing.
 */
public final class VariantSearch {
    private VariantSearch() {}

    public enum Strategy { AUTO, FULL, COORDINATE }

    /** The automatic search runs the full product up to this many combinations. */
    public static final int FULL_LIMIT = 24;

    /** One combination run: every varied setting's value, those that differ from the model's own, and the per-tensor errors. */
    public record Variant(Map<String, String> settings, List<String> changed, List<ReferenceCompare.Row> rows) {
        /** The largest relative L2 error over the tensors (infinite when any is not finite). */
        public double maxRelErr() {
            double m = 0;
            for (ReferenceCompare.Row r : rows) {
                if (!Double.isFinite(r.relL2())) return Double.POSITIVE_INFINITY;
                m = Math.max(m, r.relL2());
            }
            return m;
        }

        /** Mean over the tensors of log10 of the relative error (an exact tensor counts as 1e-12). */
        public double meanLog10Err() {
            double s = 0;
            for (ReferenceCompare.Row r : rows) s += Double.isFinite(r.relL2()) ? Math.log10(Math.max(r.relL2(), 1e-12)) : 300;
            return rows.isEmpty() ? 0 : s / rows.size();
        }

        /** "default" or the changed settings, e.g. {@code activation=gelu_exact, softcap=off}. */
        public String label() {
            if (changed.isEmpty()) return "default";
            List<String> parts = new ArrayList<>();
            for (String k : changed) parts.add(k + "=" + settings.get(k));
            return String.join(", ", parts);
        }
    }

    /** Smallest worst-tensor error, then smallest mean log error; among equals, the fewest changes from the model's own settings. */
    static final Comparator<Variant> BEST_FIRST = Comparator.comparingDouble(Variant::maxRelErr).thenComparingDouble(Variant::meanLog10Err)
            .thenComparingInt(v -> v.changed().size());

    /**
     * @param precision    the activation dtype every variant runs in (the reference's)
     * @param strategy     how the combinations were searched ("full" or "coordinate")
     * @param combinations the size of the full product
     * @param space        each varied setting's candidate values, in {@link Setting} order
     * @param defaults     the model's own value of each varied setting
     * @param ranked       every combination run, best first
     */
    public record Result(Precision precision, String strategy, long combinations, Map<String, List<String>> space, Map<String, String> defaults,
                         List<Variant> ranked) {
        public Variant best() { return ranked.getFirst(); }
    }

    /**
     * Runs the variants of {@code model} (its spec as loaded, with the numerics of the precision to
     * run in) against {@code expected}. The model's weights are shared by every variant.
     */
    public static Result run(Model model, ReferenceCompare.Expected expected, Strategy strategy, Consumer<String> progress) {
        Spec base = model.spec;
        Map<Setting, List<String>> space = new LinkedHashMap<>();
        Map<Setting, String> defaults = new LinkedHashMap<>();
        for (Setting s : Setting.values()) {
            List<String> values = s.candidates(base);
            if (values.isEmpty()) continue;
            space.put(s, values);
            defaults.put(s, s.valueOf(base));
        }
        long combinations = 1;
        for (List<String> v : space.values()) combinations *= v.size();
        boolean full = strategy == Strategy.FULL || (strategy == Strategy.AUTO && combinations <= FULL_LIMIT);
        Runner run = new Runner(model, expected, space, defaults, combinations, full, progress);
        if (full) run.full();
        else run.coordinate();
        List<Variant> ranked = new ArrayList<>(run.done.values());
        ranked.sort(BEST_FIRST);
        Map<String, List<String>> spaceOut = new LinkedHashMap<>();
        space.forEach((k, v) -> spaceOut.put(k.key, v));
        Map<String, String> defaultsOut = new LinkedHashMap<>();
        defaults.forEach((k, v) -> defaultsOut.put(k.key, v));
        return new Result(base.numerics.activations(), full ? "full" : "coordinate", combinations, spaceOut, defaultsOut, List.copyOf(ranked));
    }

    /** Runs combinations (each at most once) and keeps their results. */
    private static final class Runner {
        final Model model;
        final ReferenceCompare.Expected expected;
        final Map<Setting, List<String>> space;
        final Map<Setting, String> defaults;
        final long combinations;
        final boolean full;
        final Consumer<String> progress;
        final Map<Map<Setting, String>, Variant> done = new LinkedHashMap<>();

        Runner(Model model, ReferenceCompare.Expected expected, Map<Setting, List<String>> space, Map<Setting, String> defaults,
               long combinations, boolean full, Consumer<String> progress) {
            this.model = model;
            this.expected = expected;
            this.space = space;
            this.defaults = defaults;
            this.combinations = combinations;
            this.full = full;
            this.progress = progress;
        }

        Variant eval(Map<Setting, String> combo) {
            Variant v = done.get(combo);
            if (v != null) return v;
            Spec s = model.spec.copy();
            for (var e : combo.entrySet()) e.getKey().apply(s, model.spec, e.getValue());
            Map<String, String> settings = new LinkedHashMap<>();
            List<String> changed = new ArrayList<>();
            for (var e : combo.entrySet()) {
                settings.put(e.getKey().key, e.getValue());
                if (!e.getValue().equals(defaults.get(e.getKey()))) changed.add(e.getKey().key);
            }
            v = new Variant(settings, changed, expected.rows(new Model(s, model.weights, model.backend())));
            done.put(Map.copyOf(combo), v);
            if (progress != null)
                progress.accept(String.format(Locale.ROOT, "%d/%s %-50s max_rel_err %.3e", done.size(), full ? Long.toString(combinations) : "~",
                        v.label(), v.maxRelErr()));
            return v;
        }

        void full() {
            List<Setting> keys = new ArrayList<>(space.keySet());
            int[] idx = new int[keys.size()];
            while (true) {
                Map<Setting, String> combo = new LinkedHashMap<>();
                for (int i = 0; i < keys.size(); i++) combo.put(keys.get(i), space.get(keys.get(i)).get(idx[i]));
                eval(combo);
                int i = keys.size() - 1;
                while (i >= 0 && ++idx[i] == space.get(keys.get(i)).size()) idx[i--] = 0;
                if (i < 0) return;
            }
        }

        void coordinate() {
            Map<Setting, String> best = new LinkedHashMap<>(defaults);
            Variant bestV = eval(best);
            // each setting alone; remember the best single change of each setting that helped
            Map<Setting, Variant> helped = new HashMap<>();
            Map<Setting, String> helpedValue = new HashMap<>();
            for (var e : space.entrySet())
                for (String value : e.getValue()) {
                    if (value.equals(defaults.get(e.getKey()))) continue;
                    Variant v = eval(with(defaults, e.getKey(), value));
                    Variant prev = helped.get(e.getKey());
                    if (BEST_FIRST.compare(v, bestV) < 0 && (prev == null || BEST_FIRST.compare(v, prev) < 0)) {
                        helped.put(e.getKey(), v);
                        helpedValue.put(e.getKey(), value);
                    }
                }
            // combine the helpful changes greedily, most helpful first
            List<Setting> order = new ArrayList<>(helped.keySet());
            order.sort((a, b) -> BEST_FIRST.compare(helped.get(a), helped.get(b)));
            for (Setting s : order) {
                Map<Setting, String> cand = with(best, s, helpedValue.get(s));
                Variant v = eval(cand);
                if (BEST_FIRST.compare(v, bestV) < 0) { best = cand; bestV = v; }
            }
            // coordinate descent from there until no single change helps
            for (int round = 0; round < space.size() + 1; round++) {
                boolean improved = false;
                for (var e : space.entrySet())
                    for (String value : e.getValue()) {
                        if (value.equals(best.get(e.getKey()))) continue;
                        Map<Setting, String> cand = with(best, e.getKey(), value);
                        Variant v = eval(cand);
                        if (BEST_FIRST.compare(v, bestV) < 0) { best = cand; bestV = v; improved = true; }
                    }
                if (!improved) return;
            }
        }

        private static Map<Setting, String> with(Map<Setting, String> from, Setting s, String value) {
            Map<Setting, String> m = new LinkedHashMap<>(from);
            m.put(s, value);
            return m;
        }
    }
}
