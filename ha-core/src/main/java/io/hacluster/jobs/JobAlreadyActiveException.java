package io.hacluster.jobs;

/** {@link JobServer#submitJobOnce} refused: a job of the type is pending or running. */
public final class JobAlreadyActiveException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String type;

    JobAlreadyActiveException(String type) {
        super("a job of type " + type + " is already pending or running");
        this.type = type;
    }

    /** The job type. */
    public String type() {
        return type;
    }
}
