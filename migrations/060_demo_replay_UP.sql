-- The demo's month of history (scripts/demo/replay.ts): `npm start` replays the last 30 days
-- through the real runner into an empty demo database and records it here, so that later starts
-- keep that history and never replay it again, and an interrupted replay resumes where it stopped.
-- One row at most; empty in any database the demo never ran on.
CREATE TABLE demo_replay (
    id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    -- The instant the replayed month leads up to: every replayed run happened before it.
    anchor TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    runs INTEGER NOT NULL DEFAULT 0
);
