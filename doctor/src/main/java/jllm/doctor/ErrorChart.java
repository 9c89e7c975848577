package jllm.doctor;

import java.util.List;
import java.util.Locale;

/**
 * Draws per-layer error as an SVG line chart on a log10 axis: the way to see where two
 * implementations start to drift apart (a jump at one layer) versus round-off that grows smoothly.
 */
public final class ErrorChart {
    private ErrorChart() {}

    public static String svg(String title, List<ReferenceCompare.Row> rows, double tolerance) {
        int w = 720, h = 360, left = 70, right = 20, top = 40, bottom = 70;
        double lo = Math.log10(tolerance) - 3, hi = Math.log10(tolerance) + 3;
        for (ReferenceCompare.Row r : rows) {
            double v = r.log10();
            if (Double.isFinite(v)) { lo = Math.min(lo, Math.floor(v)); hi = Math.max(hi, Math.ceil(v)); }
        }
        final double ylo = lo, yhi = hi;
        int n = rows.size();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='12'>%n", w, h));
        sb.append(String.format(Locale.ROOT, "<rect width='%d' height='%d' fill='white'/>%n", w, h));
        sb.append(String.format(Locale.ROOT, "<text x='%d' y='22' font-size='15'>%s</text>%n", left, esc(title)));
        java.util.function.DoubleUnaryOperator y = v -> top + (yhi - v) / (yhi - ylo) * (h - top - bottom);
        java.util.function.IntToDoubleFunction x = i -> left + (n == 1 ? 0.5 : (double) i / (n - 1)) * (w - left - right);
        for (int e = (int) ylo; e <= yhi; e++) {
            double yy = y.applyAsDouble(e);
            sb.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#ddd'/><text x='%d' y='%.1f' text-anchor='end'>1e%d</text>%n",
                    left, w - right, yy, yy, left - 6, yy + 4, e));
        }
        double ty = y.applyAsDouble(Math.log10(tolerance));
        sb.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#c00' stroke-dasharray='5,4'/><text x='%d' y='%.1f' fill='#c00' text-anchor='end'>tolerance</text>%n",
                left, w - right, ty, ty, w - right, ty - 4));
        StringBuilder path = new StringBuilder();
        for (int i = 0; i < n; i++) {
            double v = rows.get(i).log10();
            double yy = y.applyAsDouble(Double.isFinite(v) ? v : ylo);
            path.append(path.isEmpty() ? "M" : " L").append(String.format(Locale.ROOT, "%.1f %.1f", x.applyAsDouble(i), yy));
            sb.append(String.format(Locale.ROOT, "<circle cx='%.1f' cy='%.1f' r='3.5' fill='#1f5fbf'><title>%s: %.3e</title></circle>%n",
                    x.applyAsDouble(i), yy, esc(rows.get(i).name()), rows.get(i).relL2()));
            sb.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' text-anchor='end' transform='rotate(-45 %.1f %d)'>%s</text>%n",
                    x.applyAsDouble(i), h - bottom + 16, x.applyAsDouble(i), h - bottom + 16, esc(rows.get(i).name())));
        }
        sb.append("<path d='").append(path).append("' fill='none' stroke='#1f5fbf' stroke-width='2'/>\n");
        sb.append(String.format(Locale.ROOT, "<text x='14' y='%d' transform='rotate(-90 14 %d)'>relative L2 error (log10)</text>%n", h / 2 + 60, h / 2 + 60));
        sb.append("</svg>\n");
        return sb.toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;");
    }
}
