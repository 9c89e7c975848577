package jllm.tokenizer.pretokenizer;

import jllm.formats.FormatException;
import jllm.tokenizer.util.IntList;

import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A split regex written for Oniguruma (Hugging Face tokenizers) or llama.cpp, run on java.util.regex.
 * Translation: Unicode character classes ({@code \s} = White_Space, {@code \w}, {@code \d} Unicode),
 * Unicode case folding for {@code (?i)}, script names in {@code \p{..}}, and {@code \h} (hex digit in
 * Oniguruma, horizontal space in Java). java.util.regex recurses on some constructs (repeated groups),
 * so a {@link StackOverflowError} on a huge input is retried once on a thread with a large stack.
 */
public final class RegexPattern implements SplitPattern {
    private static final long BIG_STACK = 1L << 30;
    private final Pattern pattern;

    public RegexPattern(String onigRegex) {
        String javaRegex = translate(onigRegex);
        try {
            pattern = Pattern.compile(javaRegex, Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE);
        } catch (PatternSyntaxException e) {
            throw new FormatException("invalid split regex '" + onigRegex + "': " + e.getDescription());
        }
    }

    public static String translate(String re) {
        StringBuilder b = new StringBuilder(re.length() + 16);
        for (int i = 0; i < re.length(); i++) {
            char c = re.charAt(i);
            if (c == '\\' && i + 1 < re.length()) {
                char d = re.charAt(i + 1);
                if (d == 'h') { b.append("[0-9a-fA-F]"); i++; continue; }
                if (d == 'H') { b.append("[^0-9a-fA-F]"); i++; continue; }
                if ((d == 'p' || d == 'P') && i + 2 < re.length() && re.charAt(i + 2) == '{') {
                    int close = re.indexOf('}', i + 3);
                    if (close > 0) {
                        String name = re.substring(i + 3, close);
                        b.append('\\').append(d).append('{').append(javaProperty(name)).append('}');
                        i = close;
                        continue;
                    }
                }
                b.append(c).append(d);
                i++;
                continue;
            }
            b.append(c);
        }
        return b.toString();
    }

    private static String javaProperty(String name) {
        String n = name.startsWith("^") ? name.substring(1) : name;
        try {
            Pattern.compile("\\p{" + n + "}");
            return n;
        } catch (PatternSyntaxException e) {
            try {
                Pattern.compile("\\p{Is" + n + "}");
                return "Is" + n;
            } catch (PatternSyntaxException e2) {
                throw new FormatException("unsupported Unicode property \\p{" + name + "} in split regex");
            }
        }
    }

    @Override
    public void findMatches(String s, IntList spans) {
        int mark = spans.size();
        try {
            run(s, spans);
        } catch (StackOverflowError e) {
            spans.truncate(mark); // discard the partial result
            AtomicReference<Throwable> err = new AtomicReference<>();
            IntList tmp = new IntList();
            Thread t = new Thread(null, () -> {
                try { run(s, tmp); } catch (Throwable x) { err.set(x); }
            }, "jllm-regex", BIG_STACK);
            t.start();
            try { t.join(); } catch (InterruptedException ie) { Thread.currentThread().interrupt(); }
            if (err.get() != null) throw new FormatException("split regex too complex for an input of " + s.length() + " chars: " + err.get());
            spans.addAll(tmp);
        }
    }

    private void run(String s, IntList spans) {
        Matcher m = pattern.matcher(s);
        while (m.find()) {
            spans.add(m.start());
            spans.add(m.end());
        }
    }
}
