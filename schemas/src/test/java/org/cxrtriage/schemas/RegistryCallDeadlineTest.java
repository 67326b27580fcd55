package org.cxrtriage.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.microsoft.kiota.ApiExceptionBuilder;
import io.apicurio.registry.resolver.client.RegistryClientFacade;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class RegistryCallDeadlineTest {

    @Test
    void aCallThatNeverReturnsEndsAtTheDeadlineAsAnOutage() {
        CountDownLatch never = new CountDownLatch(1);
        RegistryClientFacade stuck = fake((method, args) -> {
            never.await(); // a lost callback: nothing ever completes this call
            return null;
        });
        RegistryClientFacade bounded = RegistryCallDeadline.wrap(stuck, Duration.ofMillis(300));

        long t0 = System.nanoTime();
        Throwable error = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> catchThrowable(() -> bounded.getSchemaByContentId(7L)));

        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(error).hasMessageContaining("getSchemaByContentId").hasMessageContaining("300 ms");
        assertThat(RegistryErrors.unavailable(error)).isTrue();
    }

    @Test
    void answersAndTheClientsOwnErrorsPassThroughUnchanged() {
        RegistryClientFacade answering = fake((method, args) -> switch (method) {
            case "getSchemaByContentId" -> "{\"type\":\"string\"}";
            case "getSchemaByGlobalId" -> throw new ApiExceptionBuilder().withMessage("no such id")
                    .withResponseStatusCode(404).build();
            default -> null;
        });
        RegistryClientFacade bounded = RegistryCallDeadline.wrap(answering, Duration.ofSeconds(5));

        assertThat(bounded.getSchemaByContentId(7L)).isEqualTo("{\"type\":\"string\"}");
        Throwable notFound = catchThrowable(() -> bounded.getSchemaByGlobalId(7L, true));
        assertThat(notFound).isInstanceOf(com.microsoft.kiota.ApiException.class).hasMessage("no such id");
        assertThat(RegistryErrors.unavailable(notFound)).isFalse();
    }

    @Test
    void aCallThatFailsWithoutTheRegistrysAnswerIsAnOutage() {
        RegistryClientFacade failing = fake((method, args) -> switch (method) {
            case "getSchemaByContentId" -> throw new IllegalStateException(new java.net.ConnectException("refused"));
            case "getSchemaByGlobalId" -> throw new ApiExceptionBuilder().withMessage("busy")
                    .withResponseStatusCode(503).build();
            default -> null;
        });
        RegistryClientFacade bounded = RegistryCallDeadline.wrap(failing, Duration.ofSeconds(5));

        Throwable refused = catchThrowable(() -> bounded.getSchemaByContentId(7L));
        Throwable busy = catchThrowable(() -> bounded.getSchemaByGlobalId(7L, true));

        assertThat(refused).isInstanceOf(RegistryUnavailableException.class)
                .hasMessageContaining("getSchemaByContentId").hasRootCauseInstanceOf(java.net.ConnectException.class);
        assertThat(busy).isInstanceOf(RegistryUnavailableException.class);
        assertThat(RegistryErrors.unavailable(refused)).isTrue();
        assertThat(RegistryErrors.unavailable(busy)).isTrue();
    }

    @Test
    void theDeadlineCoversTheClientsRetries() {
        // 3 attempts of 10 s and the back-off between them, then a second of slack.
        assertThat(TimeBoundSchemaResolver.callDeadline(10_000)).isEqualTo(Duration.ofMillis(31_750));
    }

    private interface Answer {
        Object answer(String method, Object[] args) throws Exception;
    }

    private static RegistryClientFacade fake(Answer answer) {
        return (RegistryClientFacade) Proxy.newProxyInstance(RegistryClientFacade.class.getClassLoader(),
                new Class<?>[] {RegistryClientFacade.class}, (proxy, m, args) -> answer.answer(m.getName(), args));
    }
}
