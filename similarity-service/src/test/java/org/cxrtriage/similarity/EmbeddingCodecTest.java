package org.cxrtriage.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EmbeddingCodecTest {

    @Test
    void writesLittleEndianFloat32() {
        byte[] bytes = EmbeddingCodec.encode(new float[] {1.0f});
        // 1.0f = 0x3F800000, least significant byte first.
        assertThat(bytes).containsExactly(0x00, 0x00, (byte) 0x80, 0x3F);
    }

    @Test
    void roundTrips() {
        float[] v = {0f, -1.5f, 3.25f, Float.MIN_VALUE, 1e30f};
        assertThat(EmbeddingCodec.decode(EmbeddingCodec.encode(v))).containsExactly(v);
    }

    @Test
    void rejectsTruncatedBytes() {
        assertThatThrownBy(() -> EmbeddingCodec.decode(new byte[] {1, 2, 3})).isInstanceOf(IllegalArgumentException.class);
    }
}
