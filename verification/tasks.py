"""Background work of verification: draw samples a failed receiver left undrawn."""

from celery import shared_task

from verification import services

SCHEDULE = {
    "draw-missing-samples": {"task": "verification.draw_missing_samples", "schedule": 300.0},
    "refresh-quality-scores": {"task": "verification.refresh_quality_scores", "schedule": 3600.0},
}


@shared_task(name="verification.draw_missing_samples")
def draw_missing_samples() -> list[int]:
    # The batch_processed receiver draws samples at once; this only catches batches whose
    # draw failed (a crash between intake's commit and the draw), so none waits forever.
    return services.draw_missing_samples()


@shared_task(name="verification.refresh_quality_scores")
def refresh_quality_scores() -> int:
    # Decisions, holds and intake refresh a seller's stored score as they happen; this catches
    # what happens without us (a batch rejected at intake, sales and disputes elsewhere).
    return services.refresh_quality_scores()
