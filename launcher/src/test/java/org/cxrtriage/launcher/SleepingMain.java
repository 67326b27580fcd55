package org.cxrtriage.launcher;

/** A JVM that does nothing for a minute: the child process {@link ServiceProcessTest} pauses and resumes. */
public final class SleepingMain {
    private SleepingMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        Thread.sleep(60_000);
    }
}
