package jllm.doctor.variants;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jllm.doctor.ErrorChart;
import jllm.doctor.ReferenceCompare;
import jllm.doctor.chart.LineChart;

/** A variant search's result as a table, as JSON and as a per-layer error chart. */
public final class VariantReport {
    private VariantReport() {}

    /** Lines drawn in the chart: the best variants, plus the model's own settings when they rank lower. */
    static final int CHART_LINES = 8;

    /** What was searched, then one row per combination run, best first. */
    public static String table(VariantSearch.Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "precision %s; varied %s%n", r.precision().key, r.space()));
        sb.append(String.format(Locale.ROOT, "model's own settings (default): %s%n", r.defaults()));
        sb.append(String.format(Locale.ROOT, "search: %s, %d of %d combinations run%n", describe(r), r.ranked().size(), r.combinations()));
        sb.append(String.format(Locale.ROOT, "%4s %13s %11s  %s%n", "rank", "max_rel_err", "mean_log10", "settings changed from the default"));
        int rank = 1;
        for (VariantSearch.Variant v : r.ranked())
            sb.append(String.format(Locale.ROOT, "%4d %13.3e %11.2f  %s%n", rank++, v.maxRelErr(), v.meanLog10Err(), v.label()));
        return sb.toString();
    }

    private static String describe(VariantSearch.Result r) {
        return r.strategy().equals("full") ? "full product"
                : "coordinate (each setting alone, helpful changes combined greedily, then single changes until none helps)";
    }

    /** {@code {"precision", "search", "combinations", "space", "defaults", "variants": [{"settings", "changed", "max_rel_err", "mean_log10_err", "errors"}]}}, best first. */
    public static String json(VariantSearch.Result r, String reference) {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        if (reference != null) root.put("reference", reference);
        root.put("precision", r.precision().key);
        root.put("search", r.strategy());
        root.put("combinations", r.combinations());
        ObjectNode space = root.putObject("space");
        r.space().forEach((k, v) -> v.forEach(space.putArray(k)::add));
        ObjectNode defaults = root.putObject("defaults");
        r.defaults().forEach(defaults::put);
        ArrayNode variants = root.putArray("variants");
        for (VariantSearch.Variant v : r.ranked()) {
            ObjectNode o = variants.addObject();
            ObjectNode s = o.putObject("settings");
            v.settings().forEach(s::put);
            v.changed().forEach(o.putArray("changed")::add);
            number(o, "max_rel_err", v.maxRelErr());
            number(o, "mean_log10_err", v.meanLog10Err());
            ObjectNode errors = o.putObject("errors");
            for (ReferenceCompare.Row row : v.rows()) number(errors, row.name(), row.relL2());
        }
        try {
            return om.writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** JSON has no infinity or NaN: those are written as null. */
    private static void number(ObjectNode o, String k, double v) {
        if (Double.isFinite(v)) o.put(k, v);
        else o.putNull(k);
    }

    /** Relative L2 error per hidden state (log axis), one line per variant: the best few and the model's own settings. */
    public static LineChart chart(VariantSearch.Result r, String title) {
        Map<String, List<ReferenceCompare.Row>> lines = new LinkedHashMap<>();
        List<VariantSearch.Variant> ranked = r.ranked();
        VariantSearch.Variant own = ranked.stream().filter(v -> v.changed().isEmpty()).findFirst().orElse(null);
        List<VariantSearch.Variant> pick = new java.util.ArrayList<>(ranked.subList(0, Math.min(CHART_LINES, ranked.size())));
        if (own != null && !pick.contains(own)) pick.set(pick.size() - 1, own);
        for (VariantSearch.Variant v : pick) lines.put(name(ranked.indexOf(v), v), v.rows());
        return ErrorChart.chart(title, lines, 0).subtitle("one line per implementation variant, ranked by max relative error; precision " + r.precision().key);
    }

    private static String name(int rank, VariantSearch.Variant v) {
        return "#" + (rank + 1) + " " + v.label();
    }
}
