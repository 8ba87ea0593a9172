"""Background work of verification: draw samples left undrawn, refresh quality scores."""

from celery import shared_task

from verification import services

SCHEDULE = {
    "draw-missing-samples": {"task": "verification.draw_missing_samples", "schedule": 300.0},
    "refresh-quality-scores": {"task": "verification.refresh_quality_scores", "schedule": 3600.0},
}


@shared_task(name="verification.draw_missing_samples")
def draw_missing_samples() -> list[int]:
    # Intake's last transaction draws the sample; this catches a batch that reached
    # spot_check without one anyway (no receiver connected, older rows), so none waits forever.
    return services.draw_missing_samples()


@shared_task(name="verification.refresh_quality_scores")
def refresh_quality_scores() -> int:
    # Decisions, holds and intake refresh a seller's stored score as they happen; this catches
    # what happens without us (a batch rejected at intake, sales and disputes elsewhere).
    return services.refresh_quality_scores()
