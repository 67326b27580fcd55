package org.cxrtriage.schemas;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Bare Avro binary with no registry and no wire-format header. Only for {@code TopologyTestDriver} tests, where
 * topology logic is under test; the real pipeline always uses {@link AvroSerdes}.
 */
public final class PlainAvroSerdes implements TopicSerdes {

    @Override
    public <V extends SpecificRecord> Serde<V> serde(Topic<V> topic) {
        SpecificDatumWriter<V> writer = new SpecificDatumWriter<>(topic.valueSchema());
        SpecificDatumReader<V> reader = new SpecificDatumReader<>(topic.valueSchema());
        return Serdes.serdeFrom((t, value) -> {
            if (value == null) {
                return null;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            try {
                writer.write(value, enc);
                enc.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.toByteArray();
        }, (t, bytes) -> {
            if (bytes == null) {
                return null;
            }
            BinaryDecoder dec = DecoderFactory.get().binaryDecoder(bytes, null);
            try {
                return reader.read(null, dec);
            } catch (IOException e) {
                throw new org.apache.kafka.common.errors.SerializationException("not Avro for " + topic.name(), e);
            }
        });
    }
}
