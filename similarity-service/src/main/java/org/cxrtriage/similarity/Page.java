package org.cxrtriage.similarity;

/**
 * A page of similar cases asked for over HTTP: {@code limit} cases after the first {@code offset}. The limit is
 * clamped to 1–{@value #MAX_LIMIT}; an offset beyond {@value #MAX_OFFSET} is refused, because the search gathers
 * offset + limit neighbours at once (an offset of 10⁹ would ask for an array of 10⁹ entries).
 */
record Page(int limit, int offset) {

    static final int DEFAULT_LIMIT = 4;
    static final int MAX_LIMIT = 100;
    static final int MAX_OFFSET = 1_000;

    /** From the query parameters (null when absent); IllegalArgumentException says what is wrong. */
    static Page parse(String limit, String offset) {
        int l = limit == null ? DEFAULT_LIMIT : integer("limit", limit);
        int o = offset == null ? 0 : integer("offset", offset);
        if (o < 0 || o > MAX_OFFSET) {
            throw new IllegalArgumentException("offset must be between 0 and " + MAX_OFFSET + ", was " + o);
        }
        return new Page(Math.max(1, Math.min(MAX_LIMIT, l)), o);
    }

    private static int integer(String name, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, was '" + value + "'");
        }
    }
}
