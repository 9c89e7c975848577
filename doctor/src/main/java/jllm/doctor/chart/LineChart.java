package jllm.doctor.chart;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import jllm.formats.io.OutputFile;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

/**
 * A line chart a person can read at a glance: a title, labelled axes (the y axis optionally
 * logarithmic), one coloured line per named series and a legend, written as PNG or SVG. JFreeChart
 * does the drawing; this class only fixes a readable style so every jllm chart looks alike.
 *
 * <p>Used for per-layer error (x = layer names via {@link #categories}), RoPE precision and, by the
 * fine-tuning commands, loss curves:
 * <pre>{@code
 * LineChart.of("Loss", "step", "cross-entropy").logY(true)
 *     .series("train", steps, train).series("validation", valSteps, val)
 *     .write(Path.of("loss.png"), overwrite, List.of());
 * }</pre>
 * On a log axis, points with y <= 0 or non-finite y cannot be drawn and are left out (the line
 * resumes at the next drawable point); a note under the title says how many. Rotated text (the y
 * axis label) is drawn as outlines in SVG, so it looks the same in every viewer.
 */
public final class LineChart {
    static {
        // Charts are drawn off-screen; never try to open a display (servers, CI, ssh sessions).
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    /** Colour-blind-safe palette (Okabe & Ito), dark enough on white. */
    private static final Color[] PALETTE = {new Color(0x0072B2), new Color(0xD55E00), new Color(0x009E73), new Color(0xCC79A7),
            new Color(0xE69F00), new Color(0x56B4E9), new Color(0x000000), new Color(0xF0E442)};

    /** One named line: points in x order as given. */
    public record Series(String name, double[] x, double[] y) {
        public Series {
            if (x.length != y.length) throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but " + y.length + " y values");
            x = x.clone();
            y = y.clone();
        }
    }

    private record Marker(String label, double y) {}

    private final String title, xLabel, yLabel;
    private final List<Series> series = new ArrayList<>();
    private final List<Marker> markers = new ArrayList<>();
    private boolean logY;
    private String[] categories;
    private String subtitle;
    private int width = 960, height = 540;

    private LineChart(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public static LineChart of(String title, String xLabel, String yLabel) { return new LineChart(title, xLabel, yLabel); }

    /** A base-10 logarithmic y axis (errors, losses spanning decades). */
    public LineChart logY(boolean on) { logY = on; return this; }

    /** Names for x = 0, 1, 2 ... (e.g. {@code hidden.0 ... logits}) shown as the x tick labels. */
    public LineChart categories(List<String> names) { categories = names.toArray(new String[0]); return this; }

    public LineChart subtitle(String s) { subtitle = s; return this; }

    public LineChart size(int w, int h) {
        if (w < 200 || h < 150 || w > 8000 || h > 8000) throw new IllegalArgumentException("chart size " + w + "x" + h + " outside 200x150..8000x8000");
        width = w;
        height = h;
        return this;
    }

    public LineChart series(String name, double[] x, double[] y) { series.add(new Series(name, x, y)); return this; }

    /** A series over x = 0, 1, 2 ... (use with {@link #categories}). */
    public LineChart series(String name, double[] y) {
        double[] x = new double[y.length];
        for (int i = 0; i < x.length; i++) x[i] = i;
        return series(name, x, y);
    }

    /** A dashed horizontal reference line (a tolerance, a target loss). */
    public LineChart marker(String label, double y) { markers.add(new Marker(label, y)); return this; }

    public List<Series> seriesList() { return List.copyOf(series); }

    public String title() { return title; }

    JFreeChart build() {
        XYSeriesCollection data = new XYSeriesCollection();
        int skipped = 0;
        for (Series s : series) {
            // autoSort off: keep the caller's order; duplicates allowed (e.g. repeated steps after a resume).
            XYSeries xs = new XYSeries(s.name(), false, true);
            for (int i = 0; i < s.x().length; i++) {
                double y = s.y()[i];
                if (!Double.isFinite(y) || (logY && y <= 0)) { skipped++; continue; }
                xs.add(s.x()[i], y);
            }
            data.addSeries(xs);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, data, PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        String note = subtitle;
        if (skipped > 0) {
            String s = skipped + (skipped == 1 ? " value" : " values") + (logY ? " that are zero (exact), negative or not finite" : " not finite")
                    + (logY ? " cannot be drawn on the log axis" : " not drawn");
            note = note == null ? s : note + " — " + s;
        }
        if (note != null) {
            TextTitle t = new TextTitle(note, new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            chart.addSubtitle(t);
        }
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        plot.setOutlinePaint(new Color(0x999999));
        Font tick = new Font(Font.SANS_SERIF, Font.PLAIN, 13), label = new Font(Font.SANS_SERIF, Font.PLAIN, 15);
        ValueAxis x = categories != null ? new SymbolAxis(xLabel, categories) : numberAxis(xLabel);
        if (x instanceof SymbolAxis sa) {
            sa.setGridBandsVisible(false);
            if (categories.length > 12) sa.setVerticalTickLabels(true);
        }
        ValueAxis y = logY ? logAxis(yLabel) : numberAxis(yLabel);
        for (ValueAxis a : new ValueAxis[] {x, y}) {
            a.setTickLabelFont(tick);
            a.setLabelFont(label);
        }
        plot.setDomainAxis(x);
        plot.setRangeAxis(y);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        boolean manyPoints = series.stream().anyMatch(s -> s.x().length > 60);
        for (int i = 0; i < series.size(); i++) {
            r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            r.setSeriesStroke(i, new BasicStroke(2.2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            r.setSeriesShape(i, new Ellipse2D.Double(-3.5, -3.5, 7, 7));
            r.setSeriesShapesVisible(i, !manyPoints);
        }
        plot.setRenderer(r);
        includeMarkers(y, data);
        for (Marker m : markers) {
            if (logY && m.y() <= 0) continue;
            ValueMarker vm = new ValueMarker(m.y(), new Color(0xC00000),
                    new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 5f}, 0f));
            vm.setLabel(m.label());
            vm.setLabelFont(tick);
            vm.setLabelPaint(new Color(0xC00000));
            vm.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
            vm.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
            plot.addRangeMarker(vm);
        }
        chart.getLegend().setItemFont(tick);
        return chart;
    }

    /** Auto-ranging ignores markers; a tolerance line must be visible even when every value is far below it. */
    private void includeMarkers(ValueAxis y, XYSeriesCollection data) {
        var bounds = org.jfree.data.general.DatasetUtils.findRangeBounds(data);
        double lo = bounds == null ? Double.NaN : bounds.getLowerBound(), hi = bounds == null ? Double.NaN : bounds.getUpperBound();
        boolean changed = false;
        for (Marker m : markers) {
            if (logY && m.y() <= 0) continue;
            if (Double.isNaN(lo) || m.y() < lo) { lo = m.y(); changed = true; }
            if (Double.isNaN(hi) || m.y() > hi) { hi = m.y(); changed = true; }
        }
        if (!changed) return;
        if (logY) y.setRange(lo / 2, hi * 2);
        else {
            double pad = Math.max(1e-12, (hi - lo) * 0.05);
            y.setRange(lo - pad, hi + pad);
        }
    }

    private static NumberAxis numberAxis(String label) {
        NumberAxis a = new NumberAxis(label);
        a.setAutoRangeIncludesZero(false);
        return a;
    }

    private static LogAxis logAxis(String label) {
        LogAxis a = new DecadeAxis(label);
        a.setBase(10);
        a.setSmallestValue(1e-300);
        a.setMinorTickMarksVisible(false);
        return a;
    }

    /**
     * A log axis with round tick values: 1, 2, 5 x 10^k over a narrow range, every power of ten (or
     * every n-th) over a wide one. JFreeChart's own log ticks sit at fractional exponents (2.512...).
     */
    private static final class DecadeAxis extends LogAxis {
        DecadeAxis(String label) { super(label); }

        @Override
        @SuppressWarnings({"rawtypes", "unchecked"})
        public java.util.List refreshTicks(java.awt.Graphics2D g2, org.jfree.chart.axis.AxisState state, java.awt.geom.Rectangle2D area,
                                           org.jfree.chart.ui.RectangleEdge edge) {
            java.util.List ticks = new ArrayList();
            double lo = getLowerBound(), hi = getUpperBound();
            if (!(lo > 0) || !(hi > lo)) return ticks;
            int e0 = (int) Math.floor(Math.log10(lo)), e1 = (int) Math.ceil(Math.log10(hi)), decades = e1 - e0;
            double[] mult = decades <= 1 ? new double[] {1, 1.5, 2, 3, 4, 5, 6, 8} : decades <= 3 ? new double[] {1, 2, 5} : new double[] {1};
            int step = Math.max(1, (int) Math.ceil(decades / 10.0));
            boolean vertical = org.jfree.chart.ui.RectangleEdge.isLeftOrRight(edge);
            TextAnchor anchor = vertical ? (edge == org.jfree.chart.ui.RectangleEdge.LEFT ? TextAnchor.CENTER_RIGHT : TextAnchor.CENTER_LEFT)
                    : TextAnchor.TOP_CENTER;
            for (int e = e0 - Math.floorMod(e0, step); e <= e1; e += step) {
                for (double m : mult) {
                    double v = m * Math.pow(10, e);
                    if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9))
                        ticks.add(new org.jfree.chart.axis.NumberTick(org.jfree.chart.axis.TickType.MAJOR, v, label(v), anchor, TextAnchor.CENTER, 0));
                }
            }
            return ticks;
        }

        static String label(double v) {
            int e = (int) Math.floor(Math.log10(v) + 1e-9);
            double m = v / Math.pow(10, e);
            String ms = Math.abs(m - Math.rint(m)) < 1e-6 ? Long.toString(Math.round(m)) : String.format(Locale.ROOT, "%.1f", m);
            if (e >= -3 && e <= 4) return new java.math.BigDecimal(v).round(new java.math.MathContext(2)).stripTrailingZeros().toPlainString();
            return (ms.equals("1") ? "1" : ms) + "e" + e;
        }
    }

    /** The chart as PNG bytes. */
    public byte[] png() {
        BufferedImage img = build().createBufferedImage(width, height);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The chart as a standalone SVG document (an {@code <svg>} element with its namespace). */
    public String svg() {
        SVGGraphics2D g = new SVGGraphics2D(width, height);
        build().draw(g, new Rectangle(0, 0, width, height));
        return g.getSVGElement();
    }

    /** The format a target path asks for: {@code .svg} gives SVG, {@code .png} PNG. */
    public static boolean isSvg(Path target) {
        String n = target.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".svg")) return true;
        if (n.endsWith(".png")) return false;
        throw new IllegalArgumentException(target + ": chart files must end in .png or .svg");
    }

    /** Writes PNG or SVG (by the file name's extension) through {@link OutputFile}. */
    public Path write(Path target, boolean overwrite, Collection<Path> inputs) {
        byte[] bytes = isSvg(target) ? svg().getBytes(StandardCharsets.UTF_8) : png();
        return OutputFile.write(target, overwrite, inputs, (OutputFile.StreamBody) out -> out.write(bytes));
    }
}
