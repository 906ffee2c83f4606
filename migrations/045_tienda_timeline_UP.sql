-- The store's attempts and phase spans (openapi TimelineSpan[]), written by the runner in the same
-- statement that finishes the store: how "3 intentos" happened, and the plan's PhaseMetrics per phase.
ALTER TABLE etl_execution_details ADD COLUMN IF NOT EXISTS timeline JSONB;
