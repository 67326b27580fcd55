package org.cxrtriage.similarity;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Embeddings in Redis are little-endian float32, the layout vector stores and numpy expect. */
public final class EmbeddingCodec {
    private EmbeddingCodec() {
    }

    public static byte[] encode(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    public static float[] decode(byte[] bytes) {
        if (bytes.length % Float.BYTES != 0) {
            throw new IllegalArgumentException("embedding bytes not a multiple of 4: " + bytes.length);
        }
        float[] v = new float[bytes.length / Float.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }
}
