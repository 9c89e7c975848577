package jllm.doctor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jllm.doctor.chart.LineChart;

/**
 * Per-layer error on a log axis, one line per comparison: where two implementations start to
 * drift apart (a jump at one layer) versus round-off that grows smoothly.
 */
public final class ErrorChart {
    private ErrorChart() {}

    /** One comparison's rows (hidden.0 ... logits) as a named line. */
    public static LineChart chart(String title, Map<String, List<ReferenceCompare.Row>> lines, double tolerance) {
        List<String> names = new ArrayList<>();
        for (List<ReferenceCompare.Row> rows : lines.values())
            for (ReferenceCompare.Row r : rows) if (!names.contains(r.name())) names.add(r.name());
        LineChart c = LineChart.of(title, "hidden state (0 = embeddings, last = after the final norm)", "relative L2 error").logY(true).categories(names);
        for (var e : lines.entrySet()) {
            double[] x = new double[e.getValue().size()], y = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = names.indexOf(e.getValue().get(i).name());
                y[i] = e.getValue().get(i).relL2();
            }
            c.series(e.getKey(), x, y);
        }
        if (tolerance > 0) c.marker("tolerance " + tolerance, tolerance);
        return c;
    }

    public static LineChart chart(String title, String line, List<ReferenceCompare.Row> rows, double tolerance) {
        Map<String, List<ReferenceCompare.Row>> m = new LinkedHashMap<>();
        m.put(line, rows);
        return chart(title, m, tolerance);
    }
}
