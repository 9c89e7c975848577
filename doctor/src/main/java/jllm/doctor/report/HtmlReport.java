package jllm.doctor.report;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import jllm.doctor.Finding;
import jllm.doctor.chart.LineChart;
import jllm.formats.io.OutputFile;

/**
 * One self-contained HTML file that gathers what a doctor run found: findings, tables, plain text
 * and charts (inline SVG, so the file needs nothing beside it and prints sharply). Written through
 * {@link OutputFile}.
 */
public final class HtmlReport {
    private final String title;
    private final StringBuilder body = new StringBuilder();

    public HtmlReport(String title) { this.title = title; }

    public HtmlReport heading(String text) {
        body.append("<h2>").append(esc(text)).append("</h2>\n");
        return this;
    }

    public HtmlReport paragraph(String text) {
        body.append("<p>").append(esc(text)).append("</p>\n");
        return this;
    }

    public HtmlReport pre(String text) {
        body.append("<pre>").append(esc(text)).append("</pre>\n");
        return this;
    }

    public HtmlReport findings(List<Finding> findings) {
        if (findings.isEmpty()) return paragraph("No findings.");
        body.append("<table><tr><th>severity</th><th>code</th><th>what and why</th><th>fix</th></tr>\n");
        for (Finding f : findings) {
            body.append("<tr class='").append(f.severity().label()).append("'><td>").append(f.severity().label()).append("</td><td><code>")
                    .append(esc(f.code())).append("</code></td><td>").append(esc(f.message())).append("</td><td>").append(esc(f.fix())).append("</td></tr>\n");
        }
        body.append("</table>\n");
        return this;
    }

    public HtmlReport table(List<String> header, List<List<String>> rows) {
        body.append("<table><tr>");
        for (String h : header) body.append("<th>").append(esc(h)).append("</th>");
        body.append("</tr>\n");
        for (List<String> r : rows) {
            body.append("<tr>");
            for (String c : r) body.append("<td>").append(esc(c)).append("</td>");
            body.append("</tr>\n");
        }
        body.append("</table>\n");
        return this;
    }

    public HtmlReport chart(LineChart chart) {
        body.append("<figure>").append(chart.svg()).append("</figure>\n");
        return this;
    }

    public String html() {
        return "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>" + esc(title) + "</title>\n<style>\n"
                + "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\n"
                + "table{border-collapse:collapse;margin:1em 0;width:100%}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\n"
                + "th{background:#f3f3f3}tr.error td:first-child{background:#f8d7da;font-weight:bold}tr.warning td:first-child{background:#fff3cd}\n"
                + "tr.info td:first-child{background:#e2ecf9}pre{background:#f7f7f7;padding:8px;overflow-x:auto}figure{margin:1em 0}figure svg{max-width:100%;height:auto}\n"
                + "</style></head><body>\n<h1>" + esc(title) + "</h1>\n" + body + "</body></html>\n";
    }

    public Path write(Path target, boolean overwrite, Collection<Path> inputs) {
        byte[] bytes = html().getBytes(StandardCharsets.UTF_8);
        return OutputFile.write(target, overwrite, inputs, (OutputFile.StreamBody) out -> out.write(bytes));
    }

    static String esc(String s) {
        if (s == null) return "";
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
