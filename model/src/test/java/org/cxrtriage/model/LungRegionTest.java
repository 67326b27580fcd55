package org.cxrtriage.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LungRegionTest {
    private static final int N = 16;

    private static ModelInput input(int... lungPixels) {
        byte[] cxr = new byte[N * N];
        for (int i = 0; i < cxr.length; i++) {
            cxr[i] = (byte) (1 + i % 200); // never the fill value, so every change is visible
        }
        byte[] lung = new byte[N * N];
        for (int p : lungPixels) {
            lung[p] = (byte) 255;
        }
        return new ModelInput(N, cxr, lung);
    }

    private static int count(boolean[] region) {
        int n = 0;
        for (boolean b : region) {
            n += b ? 1 : 0;
        }
        return n;
    }

    @Test
    void theLungRegionIsTheLungPlaneFromHalfProbability() {
        ModelInput in = input();
        in.lung()[3] = (byte) 127;
        in.lung()[4] = (byte) 128;
        boolean[] region = LungRegion.of(in, 0);
        assertThat(count(region)).isEqualTo(1);
        assertThat(region[4]).isTrue();
        assertThat(region[3]).isFalse();
    }

    @Test
    void dilationGrowsASquareClippedAtTheBorders() {
        int centre = 8 * N + 8;
        boolean[] region = LungRegion.of(input(centre), 2);
        assertThat(count(region)).isEqualTo(25);
        for (int y = 0; y < N; y++) {
            for (int x = 0; x < N; x++) {
                boolean inside = Math.abs(x - 8) <= 2 && Math.abs(y - 8) <= 2;
                assertThat(region[y * N + x]).as("(%d,%d)", x, y).isEqualTo(inside);
            }
        }
        boolean[] corner = LungRegion.of(input(0), 3);
        assertThat(count(corner)).isEqualTo(16); // 4 x 4 inside the image
        assertThat(LungRegion.of(input(0, N * N - 1), N)).containsOnly(true);
        assertThatThrownBy(() -> LungRegion.of(input(), -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void blackingOutInsideAndOutsideSplitsTheImageAndLeavesTheInputAndLungPlaneAlone() {
        ModelInput in = input(5 * N + 5, 5 * N + 6, 10 * N + 12);
        byte[] before = in.cxr().clone();
        boolean[] region = LungRegion.of(in, 1);
        ModelInput hidden = LungRegion.blackOut(in, region, true);
        ModelInput only = LungRegion.blackOut(in, region, false);
        assertThat(in.cxr()).isEqualTo(before);
        assertThat(hidden.lung()).isSameAs(in.lung());
        assertThat(only.lung()).isSameAs(in.lung());
        for (int i = 0; i < N * N; i++) {
            assertThat(hidden.cxr()[i]).isEqualTo(region[i] ? LungRegion.FILL : before[i]);
            assertThat(only.cxr()[i]).isEqualTo(region[i] ? before[i] : LungRegion.FILL);
        }
        boolean[] none = new boolean[N * N];
        assertThat(LungRegion.blackOut(in, none, true).cxr()).isEqualTo(before);
        byte[] black = new byte[N * N];
        Arrays.fill(black, LungRegion.FILL);
        assertThat(LungRegion.blackOut(in, none, false).cxr()).isEqualTo(black);
    }

    @Test
    void theLungsOnlyViewUsesTheDefaultMarginAndTheFullViewIsTheInputItself() {
        int size = 100; // default margin: 3 px
        byte[] cxr = new byte[size * size];
        java.util.Arrays.fill(cxr, (byte) 77);
        byte[] lung = new byte[size * size];
        lung[50 * size + 50] = (byte) 200;
        ModelInput in = new ModelInput(size, cxr, lung);
        assertThat(InputView.FULL.apply(in)).isSameAs(in);
        byte[] seen = InputView.LUNGS_ONLY.apply(in).cxr();
        int kept = 0;
        for (byte b : seen) {
            kept += b == 77 ? 1 : 0;
        }
        assertThat(kept).isEqualTo(7 * 7);
        assertThat(seen[47 * size + 47]).isEqualTo((byte) 77);
        assertThat(seen[46 * size + 50]).isEqualTo(LungRegion.FILL);
    }
}
