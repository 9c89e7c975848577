package jllm.cli;

import java.nio.file.Path;
import java.util.List;
import jllm.doctor.chart.LineChart;
import jllm.formats.io.OutputFile;
import picocli.CommandLine.Option;

/** The files a doctor command can write besides its text: a chart and an HTML report. */
final class DoctorOutputs {
    @Option(names = "--chart", description = "Draw the chart to this file (.png or .svg)")
    Path chart;

    @Option(names = "--html", description = "Write a self-contained HTML report (text and chart) to this file")
    Path html;

    @Option(names = "--overwrite", description = "Replace existing output files")
    boolean overwrite;

    /** Refuses bad targets before any work is done. */
    void check(List<Path> inputs) {
        if (chart != null) {
            LineChart.isSvg(chart);
            OutputFile.check(chart, overwrite, inputs);
        }
        if (html != null) OutputFile.check(html, overwrite, inputs);
    }

    /** Where the "chart: PATH" / "report: PATH" notes go (stderr when stdout carries JSON). */
    java.io.PrintStream notes = System.out;

    void writeChart(LineChart c, List<Path> inputs) {
        if (chart != null) notes.println("chart: " + c.write(chart, overwrite, inputs));
    }

    void writeReport(jllm.doctor.report.HtmlReport r, List<Path> inputs) {
        if (html != null) notes.println("report: " + r.write(html, overwrite, inputs));
    }
}
