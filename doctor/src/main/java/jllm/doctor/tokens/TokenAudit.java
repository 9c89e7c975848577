package jllm.doctor.tokens;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import jllm.doctor.ChatProbe;
import jllm.doctor.ModelFiles;
import jllm.tensor.Tensor;

/**
 * Untrained tokens of a model release, with what they are (text, bos/eos/pad/unk role) and whether
 * the chat template writes them: an untrained token the template uses poisons every chat fine-tune.
 */
public final class TokenAudit {
    public record Entry(UntrainedTokens.Row row, String text, String role, boolean inTemplate) {
        public int id() { return row.id(); }
    }

    /**
     * @param flagged untrained tokens that are not bos/eos/pad/unk (the ones that are an error or warning)
     * @param roles   untrained tokens that are bos/eos/pad/unk (expected in base models; reported for information)
     */
    public record Report(UntrainedTokens.Scan scan, List<Entry> flagged, List<Entry> roles, boolean templateChecked) {
        public List<Entry> all() {
            List<Entry> a = new ArrayList<>(flagged);
            a.addAll(roles);
            return a;
        }
    }

    private TokenAudit() {}

    public static Report run(ModelFiles m) {
        Tensor embed = m.store.tensor(m.embedName);
        Tensor head = m.store.has(m.lmHeadName) ? m.store.tensor(m.lmHeadName) : embed;
        if (embed.rank() != 2) throw new IllegalArgumentException(m.embedName + " is not a matrix");
        UntrainedTokens.Scan scan = UntrainedTokens.scan(embed, head);
        Set<Integer> used = new LinkedHashSet<>();
        boolean checked = false;
        if (m.tokenizer != null && m.tokenizer.chatTemplate().isPresent()) {
            try {
                used = new ChatProbe(m.tokenizer.chatTemplate().get(), m.tokenizer).idsUsed();
                checked = true;
            } catch (RuntimeException e) {
                // a template that does not compile is lint's chat-template-error; here it just uses nothing
            }
        }
        Set<Integer> roleIds = m.roleIds();
        List<Entry> flagged = new ArrayList<>(), roles = new ArrayList<>();
        for (UntrainedTokens.Row r : scan.untrained()) {
            String text = m.tokenizer == null || r.id() >= m.tokenizer.vocabSize() ? null : m.tokenizer.tokenText(r.id());
            Entry e = new Entry(r, text, m.roleOf(r.id()), used.contains(r.id()));
            (roleIds.contains(r.id()) ? roles : flagged).add(e);
        }
        return new Report(scan, flagged, roles, checked);
    }

    /** The fix: every row to repair set to the mean of the trained rows (embedding, and the head when untied). */
    public static List<TokenFix.Patch> patches(ModelFiles m, Report r, boolean includeRoles) {
        List<Entry> fix = includeRoles ? r.all() : r.flagged();
        if (fix.isEmpty()) return List.of();
        int[] rows = fix.stream().mapToInt(Entry::id).toArray();
        Set<Integer> untrained = new LinkedHashSet<>();
        for (UntrainedTokens.Row row : r.scan().untrained()) untrained.add(row.id());
        List<TokenFix.Patch> out = new ArrayList<>();
        Tensor embed = m.store.tensor(m.embedName);
        out.add(new TokenFix.Patch(m.embedName, rows, UntrainedTokens.meanOfOtherRows(embed, untrained)));
        if (!r.scan().tied() && m.store.has(m.lmHeadName))
            out.add(new TokenFix.Patch(m.lmHeadName, rows, UntrainedTokens.meanOfOtherRows(m.store.tensor(m.lmHeadName), untrained)));
        return out;
    }
}
