package jllm.template;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The linear case mapping of {@link Strs} against the JDK's full Unicode mappings, character by
 * character over every code point (the JDK's String methods are right but quadratic on strings that
 * expand, such as 'ß' * n). Python's behaviour in context (final sigma, title rules, casefold) is checked
 * against jinja2 in jinja-cases.json.
 */
class CaseMappingTest {
    @Test
    void everyCodePointMapsLikeTheJdksFullMappings() {
        List<String> wrong = new ArrayList<>();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (Character.isSurrogate((char) cp) && cp <= 0xFFFF) continue;
            String c = new String(Character.toChars(cp));
            String up = c.toUpperCase(Locale.ROOT), low = c.toLowerCase(Locale.ROOT);
            if (!Strs.upper(c).equals(up)) wrong.add(String.format("U+%04X upper", cp));
            if (!Strs.lower(c).equals(low)) wrong.add(String.format("U+%04X lower", cp));
            // Special mappings are only looked up in the BMP: none may exist beyond it.
            if (cp > 0xFFFF && (up.codePointCount(0, up.length()) > 1 || low.codePointCount(0, low.length()) > 1))
                wrong.add(String.format("U+%04X expands", cp));
        }
        assertEquals(List.of(), wrong.subList(0, Math.min(20, wrong.size())));
    }

    @Test
    void stringsMapLikeTheJdkInContext() {
        // Final sigma and expansions inside longer strings, where the JDK applies its context rules too.
        for (String s : List.of("ΟΔΟΣ ΟΔΟΣ. ΣΑΣ", "Straße ŉ ǰ ΐ ﬃ", "İstanbul", "A'Σ'", "ΑΣ\u0301", "x" + "ß".repeat(1000)))
            assertEquals(s.toUpperCase(Locale.ROOT) + "|" + s.toLowerCase(Locale.ROOT), Strs.upper(s) + "|" + Strs.lower(s), s);
    }
}
