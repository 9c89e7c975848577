package jllm.template;

/** One lexical token; {@code value} is the text (names, operators, raw text) or the literal. */
record Token(Type type, Object value, int line) {
    enum Type { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, EOF }

    boolean is(Type t, String v) {
        return type == t && v.equals(value);
    }

    boolean isName(String v) {
        return is(Type.NAME, v);
    }

    boolean isOp(String v) {
        return is(Type.OP, v);
    }

    String text() {
        return String.valueOf(value);
    }
}
