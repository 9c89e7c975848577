package jllm.tokenizer.pretokenizer;

import java.util.ArrayList;
import java.util.List;

/** SentencePiece-style: spaces become the replacement char, a prefix is prepended per scheme, optional split. */
public final class Metaspace implements PreTokenizer {
    public enum Prepend { ALWAYS, FIRST, NEVER }

    private final char replacement;
    private final String rep;
    private final Prepend scheme;
    private final boolean split;

    public Metaspace(char replacement, Prepend scheme, boolean split) {
        this.replacement = replacement;
        this.rep = String.valueOf(replacement);
        this.scheme = scheme;
        this.split = split;
    }

    @Override
    public List<String> apply(List<String> pieces, boolean atStart) {
        List<String> out = new ArrayList<>(pieces.size() * 2);
        for (int k = 0; k < pieces.size(); k++) {
            String p = pieces.get(k).replace(' ', replacement);
            boolean prepend = switch (scheme) {
                case ALWAYS -> true;
                case FIRST -> atStart && k == 0;
                case NEVER -> false;
            };
            if (prepend && !p.startsWith(rep)) p = rep + p;
            if (!split) {
                if (!p.isEmpty()) out.add(p);
                continue;
            }
            int start = 0;
            for (int i = 1; i < p.length(); i++) {
                if (p.charAt(i) == replacement) {
                    out.add(p.substring(start, i));
                    start = i;
                }
            }
            if (start < p.length()) out.add(start == 0 ? p : p.substring(start));
        }
        return out;
    }
}
