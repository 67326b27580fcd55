package org.cxrtriage.launcher;

import java.util.Locale;

/** One progress line on stderr, rewritten in place on a terminal. */
final class Progress {
    private final int total;
    private final long start = System.currentTimeMillis();
    private final boolean tty = System.console() != null;
    private long lastPrint;

    Progress(int total) {
        this.total = total;
    }

    synchronized void show(String stage, int done) {
        long now = System.currentTimeMillis();
        if (!tty && now - lastPrint < 2000 && done != total) {
            return;
        }
        lastPrint = now;
        double elapsed = (now - start) / 1000.0;
        int width = 30;
        int filled = total == 0 ? width : (int) (width * (double) done / total);
        String bar = "#".repeat(filled) + ".".repeat(width - filled);
        String eta = done == 0 ? "?" : String.format(Locale.ROOT, "%.0fs", elapsed / done * (total - done));
        System.err.printf(Locale.ROOT, "%s[%s] %-6s %d/%d  %.0fs elapsed, ETA %s%s", tty ? "\r" : "", bar, stage,
                done, total, elapsed, eta, tty ? "" : "\n");
    }

    void finish() {
        if (tty) {
            System.err.println();
        }
    }
}
