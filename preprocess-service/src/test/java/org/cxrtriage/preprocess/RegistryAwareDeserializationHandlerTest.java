package org.cxrtriage.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler.Response;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler.Result;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.processor.TaskId;
import org.cxrtriage.schemas.AvroSerdes;
import org.cxrtriage.schemas.Topic;
import org.junit.jupiter.api.Test;

class RegistryAwareDeserializationHandlerTest {

    private static final byte[] BYTES = {0, 0, 0, 0, 9, 1, 2, 3};

    private final RegistryAwareDeserializationHandler handler = new RegistryAwareDeserializationHandler();

    RegistryAwareDeserializationHandlerTest() {
        handler.configure(Map.of(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "cxr.dead-letter.v1"));
    }

    @Test
    void aRecordTheRegistryCouldNotResolveIsReadAgainNotDeadLettered() {
        Response r = handler.handleError(context(), record(), new IllegalStateException("schema lookup failed",
                new org.cxrtriage.schemas.RegistryUnavailableException("schema registry call failed",
                        new TimeoutException("The timeout period of 10000ms has been exceeded"))));
        assertThat(r.result()).isEqualTo(Result.FAIL);
        assertThat(r.deadLetterQueueRecords()).isEmpty();
    }

    @Test
    void aRecordWhoseSchemaTheRegistryDoesNotKnowIsReadAgainNotDeadLettered() {
        Response r = handler.handleError(context(), record(), new IllegalStateException(
                new com.microsoft.kiota.ApiExceptionBuilder().withMessage("No content with id '9' was found.")
                        .withResponseStatusCode(404).build()));
        assertThat(r.result()).isEqualTo(Result.FAIL);
        assertThat(r.deadLetterQueueRecords()).isEmpty();
    }

    @Test
    void anAvroBodyThatDoesNotDecodeGoesToTheDeadLetterTopic() {
        Response r = handler.handleError(context(), record(), new org.apache.kafka.common.errors.SerializationException(
                new java.io.UncheckedIOException(new java.io.EOFException())));
        assertThat(r.result()).isEqualTo(Result.RESUME);
        assertThat(r.deadLetterQueueRecords()).hasSize(1);
    }

    @Test
    void bytesThatAreNotAnImageEventGoToTheDeadLetterTopicAndTheStreamGoesOn() {
        // The real failure for bytes without the wire format's magic byte, from the pipeline's own deserializer.
        Exception notAnEvent = null;
        try (Deserializer<?> d = new AvroSerdes("http://127.0.0.1:9/apis/registry/v3").deserializer(Topic.IMAGES)) {
            d.deserialize(Topic.IMAGES.name(), "not avro".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            notAnEvent = e;
        }
        assertThat(notAnEvent).isNotNull();

        Response r = handler.handleError(context(), record(), notAnEvent);

        assertThat(r.result()).isEqualTo(Result.RESUME);
        assertThat(r.deadLetterQueueRecords()).singleElement()
                .satisfies(dlq -> assertThat(dlq.topic()).isEqualTo("cxr.dead-letter.v1"));
    }

    private static ConsumerRecord<byte[], byte[]> record() {
        return new ConsumerRecord<>(Topic.IMAGES.name(), 0, 42, "img".getBytes(), BYTES);
    }

    private static ErrorHandlerContext context() {
        return new ErrorHandlerContext() {
            public String topic() { return Topic.IMAGES.name(); }
            public int partition() { return 0; }
            public long offset() { return 42; }
            public Headers headers() { return new RecordHeaders(); }
            public String processorNodeId() { return "images-source"; }
            public TaskId taskId() { return new TaskId(0, 0); }
            public long timestamp() { return 0; }
            public byte[] sourceRawKey() { return "img".getBytes(); }
            public byte[] sourceRawValue() { return BYTES; }
        };
    }
}
