package org.cxrtriage.preprocess;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.cxrtriage.schemas.RegistryErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An image event that cannot be deserialized goes to the dead-letter topic and the stream goes on, unless the reason
 * is the schema registry (it did not answer, or does not know the schema id: {@link RegistryErrors#readAgainLater}):
 * that image is fine, so the stream thread fails instead, is replaced (see PreprocessService's uncaught-exception
 * handler) and reads the same record again from the last commit.
 */
public class RegistryAwareDeserializationHandler extends LogAndContinueExceptionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryAwareDeserializationHandler.class);

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
                                Exception exception) {
        if (RegistryErrors.readAgainLater(exception)) {
            LOG.warn("{} reading {}-{} offset {}; the record will be read again: {}",
                    RegistryErrors.whyReadAgainLater(exception), context.topic(), context.partition(),
                    context.offset(), exception.toString());
            return Response.fail();
        }
        return super.handleError(context, record, exception);
    }
}
