package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DeliveryAccountingTest {

    private static DeliveryAccounting balancedRun() {
        DeliveryAccounting b = new DeliveryAccounting();
        b.accepted("i1", "p1");
        b.accepted("i2", "p1");
        b.accepted("i3", "p2");
        b.accepted("i4", "p3");
        for (String id : new String[] {"i1", "i2", "i3", "i4"}) {
            b.image(id);
        }
        b.score("i1", "p1", true);
        b.score("i2", "p1", true);
        b.score("i3", "p2", false);
        b.rejection("i4");
        for (String id : new String[] {"i1", "i2", "i3"}) {
            b.neighbours(id);
            b.indexed(id);
        }
        b.alert("p1");
        b.alertUpdate("alert-p1", "i2");
        b.alertRevision("alert-p1", "i1", 1, 1);
        b.alertRevision("alert-p1", "i2", 2, 2);
        return b;
    }

    @Test
    void aBalancedRunHasNoViolations() {
        DeliveryAccounting.Report r = balancedRun().report();
        assertThat(balancedRun().complete()).isTrue();
        assertThat(r.violations()).isEmpty();
        assertThat(r.counts()).containsEntry("accepted", 4L).containsEntry("scored exactly once", 3L)
                .containsEntry("rejected with a reason", 1L).containsEntry("lost", 0L)
                .containsEntry("positive patients", 1L).containsEntry("alerts opened", 1L);
    }

    @Test
    void lostDuplicatedAndMisalertedImagesAreEachReported() {
        DeliveryAccounting b = balancedRun();
        b.accepted("i5", "p4"); // never scored nor rejected
        b.image("i5");
        b.score("i3", "p2", false); // scored twice
        b.neighbours("i3");
        b.alert("p1"); // second alert for p1
        b.alert("p2"); // alert without a positive image
        b.alertUpdate("alert-p1", "i2"); // the same update twice
        b.score("i6", "p5", false); // an image on no sender's books is not a violation by itself

        DeliveryAccounting.Report r = b.report();

        assertThat(b.complete()).isFalse();
        assertThat(r.counts()).containsEntry("lost", 1L).containsEntry("scored twice or more", 1L)
                .containsEntry("duplicate neighbour sets", 1L).containsEntry("patients without exactly one alert", 2L)
                .containsEntry("alert updates published twice", 1L);
        assertThat(r.violations()).anyMatch(v -> v.contains("i5")).anyMatch(v -> v.contains("scored 2 times"))
                .anyMatch(v -> v.contains("p1 has 2 alerts")).anyMatch(v -> v.contains("p2 without"));
    }

    @Test
    void aPositiveImageThatUpdatedNoAlertIsAViolation() {
        DeliveryAccounting b = balancedRun();
        b.accepted("i7", "p1");
        b.image("i7");
        b.score("i7", "p1", true); // p1's third positive image: its update never came
        b.neighbours("i7");
        b.indexed("i7");

        DeliveryAccounting.Report r = b.report();

        assertThat(r.counts()).containsEntry("patients with missing or extra alert updates", 1L);
        assertThat(r.violations()).anyMatch(v -> v.contains("p1 has 3 positive images but 1 alert updates"));
        assertThat(balancedRun().report().counts()).containsEntry("patients with missing or extra alert updates", 0L);
    }

    @Test
    void aScoredCaseMissingFromTheIndexIsAViolation() {
        DeliveryAccounting b = new DeliveryAccounting();
        b.accepted("i1", "p1");
        b.image("i1");
        b.score("i1", "p1", false);
        b.neighbours("i1");
        assertThat(b.report().counts()).containsEntry("scored but not in the case index", 1L);
    }

    @Test
    void anAlertWhoseNewestEventDoesNotHoldItsCountIsAViolation() {
        DeliveryAccounting b = balancedRun();
        b.alertRevision("alert-p1", "i2", 3, 2); // a revision counted twice (a replay that raised it again)

        DeliveryAccounting.Report r = b.report();

        assertThat(r.counts()).containsEntry("alerts whose newest revision is not their image count", 1L);
        assertThat(r.violations()).anyMatch(v -> v.contains("alert-p1 has 2 images but its newest event has "
                + "revision 3 and count 2"));
        assertThat(balancedRun().report().counts())
                .containsEntry("alerts whose newest revision is not their image count", 0L);
    }
}
