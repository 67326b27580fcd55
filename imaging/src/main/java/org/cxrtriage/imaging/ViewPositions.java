package org.cxrtriage.imaging;

import java.util.Locale;
import java.util.Set;

/**
 * The one rule for "this is a lateral view", which the model (trained on frontal PA/AP X-rays) does not score: used for
 * the view an upload declares and for the DICOM header's ViewPosition alike.
 */
public final class ViewPositions {

    /** Whole words that name a lateral or decubitus view; any word starting with LAT (LATERAL, LATDECUB) does too. */
    private static final Set<String> LATERAL_WORDS = Set.of("LL", "RL", "LLD", "RLD");

    private ViewPositions() {
    }

    /**
     * True for "LATERAL", "LL", "L LAT", "CHEST LAT", "X-TABLE LAT", "LEFT_LATERAL", "LAT DECUB", ...; false for PA,
     * AP, AP SUPINE and null. Words, not substrings, so that a view like "AP FLAT" is not taken for a lateral.
     */
    public static boolean isLateral(String view) {
        if (view == null) {
            return false;
        }
        for (String word : view.toUpperCase(Locale.ROOT).split("[^A-Z]+")) {
            if (word.startsWith("LAT") || LATERAL_WORDS.contains(word)) {
                return true;
            }
        }
        return false;
    }
}
