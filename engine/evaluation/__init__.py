"""From evidence to decisions, points, appraisal, ranking and mid-year targets; the reference evaluator."""
